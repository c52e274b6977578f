// "Copy link" buttons on the share admin: copy the public URL to the clipboard.
document.addEventListener("click", function (event) {
  "use strict";
  var button = event.target.closest("[data-copy]");
  if (!button) return;
  event.preventDefault();
  // A path (no TIMELAPSER_SITE_URL) becomes absolute on the address this page is open at.
  var text = new URL(button.getAttribute("data-copy"), window.location.href).href;
  var done = function () { var old = button.textContent; button.textContent = "Copied"; setTimeout(function () { button.textContent = old; }, 1500); };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done);
  } else {
    window.prompt("Copy this link:", text);
  }
});
