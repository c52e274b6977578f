// Refreshes the dashboard in place (a static file: the CSP allows 'self', no inline script).
// A failed fetch keeps what is shown and tries again next time, so a wall screen rides
// out a restart; an expired session reloads the page, which then shows the login.
(function () {
  "use strict";

  document.addEventListener("DOMContentLoaded", function () {
    var live = document.getElementById("tl-live");
    if (!live) return;
    var seconds = Math.max(1, Number(live.dataset.refreshSeconds) || 30);

    function schedule() { window.setTimeout(refresh, seconds * 1000); }

    function refresh() {
      if (document.hidden) { schedule(); return; }  // nobody looking: no queries
      fetch(live.dataset.refreshUrl, { credentials: "same-origin", redirect: "manual" })
        .then(function (response) {
          if (response.type === "opaqueredirect") { window.location.reload(); return null; }
          return response.ok ? response.text() : null;
        })
        .then(function (html) { if (html !== null) live.innerHTML = html; })
        .catch(function () {})
        .then(schedule);
    }

    schedule();
  });
})();
