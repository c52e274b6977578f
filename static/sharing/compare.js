// Before/after slider: the range input (keyboard: arrows, Home, End, Page keys) and a
// drag anywhere on the picture both set how much of the "before" picture shows.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("[data-compare]"), function (frame) {
    var range = frame.parentNode.querySelector("[data-compare-range]");  // in .compare-body
    if (!range) return;
    var dragging = false;
    var after = frame.querySelector(".compare-after");
    var w = Number(after.getAttribute("width")), h = Number(after.getAttribute("height"));
    if (w > 0 && h > 0) frame.parentNode.style.setProperty("--ratio", String(w / h));

    function set(value) {
      var v = Math.round(Math.max(0, Math.min(100, value)));
      range.value = String(v);
      // A custom property through the CSSOM: allowed under a CSP without 'unsafe-inline'.
      frame.style.setProperty("--reveal", v + "%");
      range.setAttribute("aria-valuetext", v + "% before, " + (100 - v) + "% after");
    }
    function fromPointer(event) {
      var box = frame.getBoundingClientRect();
      set(((event.clientX - box.left) / box.width) * 100);
    }
    range.addEventListener("input", function () { set(Number(range.value)); });
    frame.addEventListener("pointerdown", function (event) {
      dragging = true;
      if (frame.setPointerCapture) frame.setPointerCapture(event.pointerId);
      fromPointer(event);
      event.preventDefault();
    });
    frame.addEventListener("pointermove", function (event) { if (dragging) fromPointer(event); });
    frame.addEventListener("pointerup", function () { dragging = false; });
    frame.addEventListener("pointercancel", function () { dragging = false; });
    frame.addEventListener("dragstart", function (event) { event.preventDefault(); });
    set(Number(range.value));
  });
})();
