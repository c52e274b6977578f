// Scrub previews: while the visitor seeks, show the sprite thumbnail whose WebVTT cue covers the
// time being sought (cues are "sprite.jpg#xywh=x,y,w,h"). No inline script or style attribute in the
// page: the preview box is made and positioned here, so the strict CSP holds.
(function () {
  "use strict";
  if (window.timelapserScrub) return; // the include adds this file once per video
  window.timelapserScrub = true;

  function parse(cue, base) {
    var match = /^(.*)#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(cue.text.trim());
    if (!match) return null;
    return { url: new URL(match[1], base).href, x: +match[2], y: +match[3], w: +match[4], h: +match[5] };
  }

  function attach(video) {
    var trackElement = video.querySelector("track[label=previews]");
    if (!trackElement) return;
    var track = trackElement.track;
    track.mode = "hidden"; // loads the cues without showing them as captions
    var box = document.createElement("div");
    box.className = "scrub-preview";
    box.hidden = true;
    video.parentNode.insertBefore(box, video.nextSibling);
    var hideTimer = null;

    function cueAt(time) {
      var cues = track.cues || [];
      for (var i = 0; i < cues.length; i++) {
        if (cues[i].startTime <= time && time < cues[i].endTime) return cues[i];
      }
      return cues.length ? cues[cues.length - 1] : null;
    }
    function show() {
      var cue = cueAt(video.currentTime);
      var tile = cue && parse(cue, trackElement.src);
      if (!tile) return;
      box.style.width = tile.w + "px";
      box.style.height = tile.h + "px";
      box.style.backgroundImage = "url(\"" + tile.url + "\")";
      box.style.backgroundPosition = -tile.x + "px " + -tile.y + "px";
      box.dataset.cue = cue.text;
      box.hidden = false;
      // Above the point sought, but whole over the player: near either end it stops at the player's
      // edge (on a phone the player is as wide as the screen, and a tile past it would be cut off).
      // Placed from the player's own box: in their shared parent the player may sit centred, with a
      // caption, a download link or details below it (share.css lifts the tile clear of the controls).
      var fraction = video.duration ? video.currentTime / video.duration : 0;
      var centred = fraction * video.clientWidth - box.offsetWidth / 2;
      var left = Math.max(0, Math.min(centred, video.clientWidth - box.offsetWidth));
      box.style.left = video.offsetLeft + left + "px";
      box.style.top = video.offsetTop + video.offsetHeight - box.offsetHeight + "px";
      clearTimeout(hideTimer);
    }
    video.addEventListener("seeking", show);
    video.addEventListener("seeked", function () {
      hideTimer = setTimeout(function () { box.hidden = true; }, 600);
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("video"), attach);
})();
