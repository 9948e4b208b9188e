// Loaded on every page (the CSP forbids inline scripts); every page works without it.
// - A <select data-autosubmit> submits its form when changed (the tenant switcher); the form's
//   .autosubmit-fallback button is hidden while JavaScript runs (the `js` class on <html>).
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-autosubmit]") || !select.form) return;
    if (select.form.requestSubmit) { select.form.requestSubmit(); } else { select.form.submit(); }
  });
})();
