// The dashboard's live refresh: once a refreshed #live says nothing is in progress any more
// (data-settled="true"), the page's success messages are removed: they said what had just been requested
// ("3 nodes are being created") and would otherwise contradict the page. Without JavaScript a reload does
// the same (flash messages are shown once). Loaded as a file: the CSP forbids inline scripts.
(function () {
  "use strict";
  document.addEventListener("htmx:afterSwap", function () {
    var live = document.getElementById("live");
    if (!live || live.getAttribute("data-settled") !== "true") return;
    document.querySelectorAll("#main > .flash-success").forEach(function (el) { el.remove(); });
  });
})();
