// Gallery lightbox: a thumbnail opens the full frame in a modal dialog. Arrows step,
// Escape closes, a horizontal swipe steps too; Tab stays inside the dialog while it is
// open and focus goes back to the thumbnail that opened it.
(function () {
  "use strict";
  var box = document.getElementById("lightbox");
  if (!box) return;
  var links = Array.prototype.slice.call(document.querySelectorAll("a.frame"));
  var img = box.querySelector("img");
  var caption = box.querySelector(".caption");
  var buttons = Array.prototype.slice.call(box.querySelectorAll("button"));
  var current = -1;
  var opener = null;
  var SWIPE_PX = 40;

  function show(index) {
    if (index < 0 || index >= links.length) return;
    if (current < 0) {
      opener = document.activeElement;
      document.body.classList.add("lightbox-open");
    }
    current = index;
    var thumb = links[index].querySelector("img");
    img.src = links[index].href;
    img.alt = thumb ? thumb.alt : "";
    caption.textContent = links[index].dataset.caption || "";
    box.querySelector(".prev").disabled = index === 0;
    box.querySelector(".next").disabled = index === links.length - 1;
    box.hidden = false;
    if (!box.contains(document.activeElement) || document.activeElement.disabled) {
      box.querySelector(".close").focus();
    }
  }
  function close() {
    if (current < 0) return;
    box.hidden = true;
    current = -1;
    img.removeAttribute("src");
    document.body.classList.remove("lightbox-open");
    if (opener && opener.focus) opener.focus();
  }
  function trapTab(event) {
    var usable = buttons.filter(function (b) { return !b.disabled; });
    var first = usable[0], last = usable[usable.length - 1];
    if (event.shiftKey && (document.activeElement === first || !box.contains(document.activeElement))) {
      event.preventDefault(); last.focus();
    } else if (!event.shiftKey && (document.activeElement === last || !box.contains(document.activeElement))) {
      event.preventDefault(); first.focus();
    }
  }

  links.forEach(function (link, index) {
    link.addEventListener("click", function (event) { event.preventDefault(); show(index); });
  });
  box.querySelector(".close").addEventListener("click", close);
  box.querySelector(".prev").addEventListener("click", function () { show(current - 1); });
  box.querySelector(".next").addEventListener("click", function () { show(current + 1); });
  box.addEventListener("click", function (event) { if (event.target === box) close(); });
  document.addEventListener("keydown", function (event) {
    if (current < 0) return;
    if (event.key === "Escape") { event.preventDefault(); close(); }
    else if (event.key === "ArrowRight") { event.preventDefault(); show(current + 1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); show(current - 1); }
    else if (event.key === "Tab") trapTab(event);
  });

  // Swipes: pointer events cover touch, pen and mouse alike.
  var startX = null;
  img.addEventListener("dragstart", function (event) { event.preventDefault(); });
  box.addEventListener("pointerdown", function (event) {
    if (event.target === img) startX = event.clientX;
  });
  box.addEventListener("pointerup", function (event) {
    if (startX === null) return;
    var dx = event.clientX - startX;
    startX = null;
    if (dx <= -SWIPE_PX) show(current + 1);
    else if (dx >= SWIPE_PX) show(current - 1);
  });
  box.addEventListener("pointercancel", function () { startX = null; });
})();
