// Atende's small script: behaviour that HTMX attributes cannot express. No inline scripts, so
// the content security policy can forbid them.
(function () {
  "use strict";
  // Ctrl+Enter (or Cmd+Enter) submits the form of a textarea marked data-submit-on-ctrl-enter.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) &&
        target.matches && target.matches("textarea[data-submit-on-ctrl-enter]")) {
      event.preventDefault();
      if (target.form) { target.form.requestSubmit(); }
    }
  });
  // A form marked data-reset-after-request clears itself once HTMX has posted it successfully.
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (event.detail.successful && form.matches && form.matches("form[data-reset-after-request]")) {
      form.reset();
    }
  });
})();
