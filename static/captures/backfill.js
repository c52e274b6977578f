// Follows a backfill run on its progress page (a static file: the CSP allows 'self' scripts only).
(function () {
  "use strict";

  function show(data) {
    document.getElementById("tl-backfill-bar").value = data.percent;
    document.getElementById("tl-backfill-percent").textContent = data.percent + "%";
    document.getElementById("tl-backfill-state").textContent = data.state_label;
    ["total", "filled", "skipped", "failed"].forEach(function (name) {
      document.getElementById("tl-backfill-" + name).textContent = data[name];
    });
  }

  function poll(page) {
    fetch(page.dataset.url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) return;
        show(data);
        // Finished or failed: reload so the reason and the finish time show.
        if (data.finished) window.location.reload();
        else window.setTimeout(function () { poll(page); }, 2000);
      })
      .catch(function () { window.setTimeout(function () { poll(page); }, 5000); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var page = document.querySelector(".tl-backfill");
    if (page && page.dataset.state !== "done" && page.dataset.state !== "failed") poll(page);
  });
})();
