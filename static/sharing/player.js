// Keyboard shortcuts on a share page's player, on top of the browser's own controls:
// Space/K play or pause, arrows skip 5 s, J/L 10 s, Home/End, M mute, F full screen.
// They act while the player has focus, or anywhere on the page when it has one player
// and nothing that takes typing or its own keys (a link, a button, a slider) is focused.
(function () {
  "use strict";
  var players = Array.prototype.slice.call(document.querySelectorAll("video[data-shortcuts]"));
  if (!players.length) return;
  // The page sizes a player by its aspect ratio (share.css); the attributes carry it.
  players.forEach(function (video) {
    var w = Number(video.getAttribute("width")), h = Number(video.getAttribute("height"));
    if (w > 0 && h > 0) video.style.setProperty("--ratio", String(w / h));
  });

  function skip(video, seconds) {
    var end = isFinite(video.duration) ? video.duration : Infinity;
    video.currentTime = Math.max(0, Math.min(end, video.currentTime + seconds));
  }
  function toggle(video) {
    if (video.paused || video.ended) video.play().catch(function () {});
    else video.pause();
  }
  function fullscreen(video) {
    if (document.fullscreenElement) document.exitFullscreen();
    else if (video.requestFullscreen) video.requestFullscreen().catch(function () {});
  }
  var actions = {
    " ": toggle, k: toggle, K: toggle,
    ArrowLeft: function (v) { skip(v, -5); }, ArrowRight: function (v) { skip(v, 5); },
    j: function (v) { skip(v, -10); }, J: function (v) { skip(v, -10); },
    l: function (v) { skip(v, 10); }, L: function (v) { skip(v, 10); },
    Home: function (v) { v.currentTime = 0; },
    End: function (v) { if (isFinite(v.duration)) v.currentTime = v.duration; },
    m: function (v) { v.muted = !v.muted; }, M: function (v) { v.muted = !v.muted; },
    f: fullscreen, F: fullscreen
  };

  // A focused player's own controls already toggle on Space, and cannot be told not to
  // (Chromium acts on it even when keydown is cancelled): acting too would undo them.
  function nativeSpace(event, video) {
    return event.key === " " && video === document.activeElement;
  }
  function target(event) {
    var focused = document.activeElement;
    if (players.indexOf(focused) >= 0) return focused;
    if (players.length !== 1 || document.querySelector(".lightbox-open")) return null;
    if (focused && focused !== document.body && focused.matches("a, button, input, select, textarea, [tabindex]")) return null;
    return players[0];
  }
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    var action = actions[event.key];
    var video = action && target(event);
    if (!video || nativeSpace(event, video)) return;
    event.preventDefault();  // the browser's own controls would act on the key a second time
    action(video);
  });
})();
