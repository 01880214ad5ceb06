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
// Auto-rule form: show only the parameter field (keyword, status, minutes) the chosen trigger uses.
// Without JavaScript every parameter field stays visible and the server ignores the unused ones.
(function () {
  "use strict";
  function showTriggerParameter(select) {
    var form = select.form;
    form.querySelectorAll("[data-for-trigger]").forEach(function (wrapper) {
      wrapper.hidden = wrapper.getAttribute("data-for-trigger") !== select.value;
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("select[data-trigger-select]")) {
      showTriggerParameter(event.target);
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("select[data-trigger-select]").forEach(showTriggerParameter);
  });
})();
// Pipeline board: dragging a card onto another column picks that status in the card's own form
// and submits it, so a drop and the keyboard path share one request (HTMX swaps the board).
(function () {
  "use strict";
  var dragged = null;
  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest("[data-board-card]");
    if (!card) { return; }
    dragged = card;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.id);
  });
  document.addEventListener("dragend", function () {
    dragged = null;
    document.querySelectorAll(".drop-target").forEach(function (el) { el.classList.remove("drop-target"); });
  });
  document.addEventListener("dragover", function (event) {
    var column = dragged && event.target.closest && event.target.closest("[data-board-column]");
    if (column) {
      event.preventDefault();
      column.classList.add("drop-target");
    }
  });
  document.addEventListener("dragleave", function (event) {
    var column = event.target.closest && event.target.closest("[data-board-column]");
    if (column && !column.contains(event.relatedTarget)) { column.classList.remove("drop-target"); }
  });
  document.addEventListener("drop", function (event) {
    var column = dragged && event.target.closest && event.target.closest("[data-board-column]");
    if (!column) { return; }
    event.preventDefault();
    var select = dragged.querySelector("select[data-card-status]");
    var status = column.getAttribute("data-board-column");
    if (select && select.value !== status) {
      select.value = status;
      select.form.requestSubmit();
    }
  });
  // After a move the board is swapped in anew; keep keyboard focus on the moved card.
  document.addEventListener("htmx:afterSwap", function () {
    var moved = document.querySelector("select[data-card-status][data-moved]");
    if (moved) { moved.focus(); }
  });
})();
// Inbox thread: answer a specific message, and open a thread at its newest message.
(function () {
  "use strict";
  // A button marked data-reply-to puts that message's id in the reply form's reply_to field and
  // shows which message is answered; data-reply-cancel clears it.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-reply-to], [data-reply-cancel]");
    var form = document.querySelector("form[data-reply-form]");
    if (!button || !form) { return; }
    var note = form.querySelector("[data-reply-note]");
    var replying = button.hasAttribute("data-reply-to");
    form.elements.reply_to.value = replying ? button.getAttribute("data-reply-to") : "";
    note.querySelector("[data-reply-quote]").textContent = replying ? button.getAttribute("data-quote") : "";
    note.hidden = !replying;
    form.elements.body.focus();
  });
  document.addEventListener("DOMContentLoaded", function () {
    var composer = document.getElementById("composer");
    if (composer && document.getElementById("messages")) { composer.scrollIntoView({block: "end"}); }
  });
})();
