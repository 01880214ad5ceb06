// Keyboard shortcuts in the inbox (the "?" dialog lists them): j / k next and previous
// conversation, r reply, n note, / quick replies, e close the conversation, ? this list. None fires
// while typing in a field, nor with Ctrl, Alt or Cmd held (the browser's own shortcuts).
(function () {
  "use strict";
  function typing(target) {
    if (!target || !target.closest) { return false; }
    return Boolean(target.isContentEditable || target.closest("input, textarea, select, [contenteditable]"));
  }
  function move(step) {
    var rows = Array.prototype.slice.call(document.querySelectorAll("#inbox-list .conversation-row"));
    if (!rows.length) { return; }
    var current = rows.findIndex(function (row) { return row.getAttribute("aria-current") === "true"; });
    var next = current < 0 ? (step > 0 ? 0 : rows.length - 1) : Math.min(Math.max(current + step, 0), rows.length - 1);
    if (next === current) { return; }
    var link = rows[next].querySelector("a.row-link");
    link.focus();
    link.click();
  }
  function write(mode) {
    return window.atendeComposer && window.atendeComposer.show(mode, true);
  }
  function quickReplies() {
    if (!write("reply")) { return; }
    var box = document.querySelector("form[data-reply-form] textarea[name=body]");
    var at = box.selectionStart;
    var before = box.value.slice(0, at);
    var text = (before && !/\s$/.test(before) ? " " : "") + "/";
    box.setRangeText(text, at, box.selectionEnd, "end");
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }
  function closeConversation() {
    var status = document.querySelector("#conversation-details select[name=status]");
    if (!status || status.value === "closed") { return; }
    status.value = "closed";
    status.dispatchEvent(new Event("change", {bubbles: true}));
  }
  var actions = {
    j: function () { move(1); },
    k: function () { move(-1); },
    r: function () { write("reply"); },
    n: function () { write("note"); },
    "/": quickReplies,
    e: closeConversation,
    "?": function () {
      var help = document.getElementById("shortcuts-help");
      if (help && !help.open) { help.showModal(); }
    }
  };
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) { return; }
    if (typing(event.target) || !document.getElementById("workspace")) { return; }
    var action = actions[event.key];
    if (!action || document.querySelector("dialog[open]")) { return; }
    event.preventDefault();
    action();
  });
  document.addEventListener("click", function (event) {
    var closer = event.target.closest && event.target.closest("[data-close-dialog]");
    if (closer) { closer.closest("dialog").close(); }
  });
})();
