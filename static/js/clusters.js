// Copy buttons of the cluster pages and the new API token: <button class="copy-btn" data-copy="#element-id">. Loaded as a file
// (the CSP forbids inline scripts); the pages work without it (the text is selectable).
(function () {
  "use strict";
  function textOf(el) {
    return el.value !== undefined && el.tagName === "INPUT" ? el.value : el.textContent;
  }
  function flash(button, text) {
    var old = button.textContent;
    button.textContent = text;
    button.setAttribute("aria-live", "polite");
    setTimeout(function () { button.textContent = old; }, 1500);
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".copy-btn") : null;
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-copy"));
    if (!target) return;
    var text = textOf(target);
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { flash(button, "Copied"); },
        function () { flash(button, "Press Ctrl+C"); }
      );
    } else {
      if (target.select) { target.select(); } else {
        var range = document.createRange();
        range.selectNodeContents(target);
        var sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
      }
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      flash(button, ok ? "Copied" : "Press Ctrl+C");
    }
  });
})();
