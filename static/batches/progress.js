// Refreshes batch progress bars in the admin while a render runs (a static file: CSP allows 'self').
(function () {
  "use strict";
  var ACTIVE = { pending: true, processing: true };

  function poll(bar) {
    fetch(bar.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        bar.value = data.percent;
        var text = bar.parentNode.querySelector(".batch-progress-text");
        if (text) text.textContent = data.frames_done + " / " + data.total_frames;
        if (data.status !== bar.dataset.status) {
          // Finished or failed: reload so the status, reason and player show.
          bar.dataset.status = data.status;
          if (!ACTIVE[data.status]) window.location.reload();
        }
        if (ACTIVE[data.status]) window.setTimeout(function () { poll(bar); }, 2000);
      })
      .catch(function () { window.setTimeout(function () { poll(bar); }, 5000); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("progress.batch-progress").forEach(function (bar) {
      if (ACTIVE[bar.dataset.status]) poll(bar);
    });
  });
})();
