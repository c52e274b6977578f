// Gallery lightbox: a click on a thumbnail opens the full frame; arrows step, Escape closes.
(function () {
  "use strict";
  var box = document.getElementById("lightbox");
  if (!box) return;
  var links = Array.prototype.slice.call(document.querySelectorAll("a.frame"));
  var img = box.querySelector("img");
  var caption = box.querySelector(".caption");
  var current = -1;

  function show(index) {
    if (index < 0 || index >= links.length) return;
    current = index;
    img.src = links[index].href;
    caption.textContent = links[index].dataset.caption || "";
    box.hidden = false;
  }
  function close() { box.hidden = true; current = -1; img.removeAttribute("src"); }

  links.forEach(function (link, index) {
    link.addEventListener("click", function (event) { event.preventDefault(); show(index); });
  });
  box.querySelector(".close").addEventListener("click", close);
  box.addEventListener("click", function (event) { if (event.target === box) close(); });
  document.addEventListener("keydown", function (event) {
    if (current < 0) return;
    if (event.key === "Escape") close();
    else if (event.key === "ArrowRight") show(current + 1);
    else if (event.key === "ArrowLeft") show(current - 1);
  });
})();
