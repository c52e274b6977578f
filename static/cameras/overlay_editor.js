// Live preview of the Day N badge on the camera page: redraws as the editor's inputs change.
// Sizes follow batches/ffmpeg.py badge_geometry(): font_size is pixels at 720p, margin is 2%.
(function () {
  "use strict";
  function hexToRgba(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + ((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }
  function setup(editor) {
    var form = editor.closest("form");
    var role = function (name) { return editor.querySelector("[data-role=" + name + "]"); };
    var badge = role("badge"), picture = role("picture"), preview = role("preview");
    function corner() {
      var checked = form.querySelector("input[name=day_overlay_position]:checked");
      var select = form.querySelector("select[name=day_overlay_position]");
      return checked ? checked.value : select ? select.value : "top-right";
    }
    function draw() {
      var short = Math.min(picture.clientWidth, picture.clientHeight) || 1;
      var fontPx = Math.max(6, (parseInt(role("size").value, 10) || 24) * short / 720);
      var margin = Math.max(2, short * 0.02);
      var opacity = parseFloat(role("opacity").value);
      role("opacity-value").textContent = opacity.toFixed(2);
      badge.style.fontSize = fontPx + "px";
      badge.style.padding = Math.max(1, fontPx / 4) + "px";
      badge.style.color = role("color").value;
      badge.style.background = hexToRgba(role("background").value, opacity);
      var where = corner();
      badge.style.top = where.indexOf("top") === 0 ? margin + "px" : "auto";
      badge.style.bottom = where.indexOf("bottom") === 0 ? margin + "px" : "auto";
      badge.style.left = where.slice(-4) === "left" ? margin + "px" : "auto";
      badge.style.right = where.slice(-5) === "right" ? margin + "px" : "auto";
      preview.dataset.corner = where;
    }
    form.addEventListener("input", draw);
    form.addEventListener("change", draw);
    window.addEventListener("resize", draw);
    if (picture.tagName === "IMG" && !picture.complete) picture.addEventListener("load", draw);
    draw();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-overlay-editor]").forEach(setup);
  });
})();
