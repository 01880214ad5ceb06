// Notes and mentions (docs/architecture.md, "Notes, transfers and snoozes"): the composer's Reply /
// Note tabs, the "@" list of colleagues in a note, and the live "mention" event of the tab's stream
// (the count beside Mentions and a notice). Everything listens on the document, so a composer
// swapped in by HTMX works at once.
(function () {
  "use strict";

  // -- Reply / Note --------------------------------------------------------------------------------
  var PANELS = {reply: "composer", note: "note-composer"};
  function showMode(mode, focus) {
    var shown = document.getElementById(PANELS[mode]);
    if (!shown) { return false; }
    Object.keys(PANELS).forEach(function (name) {
      var panel = document.getElementById(PANELS[name]);
      if (panel) { panel.hidden = name !== mode; }
    });
    document.querySelectorAll("[data-composer-tab]").forEach(function (tab) {
      tab.setAttribute("aria-selected", String(tab.getAttribute("data-composer-tab") === mode));
    });
    var box = shown.querySelector("textarea:not([disabled])");
    if (focus && box) { box.focus(); }
    return Boolean(box);
  }
  window.atendeComposer = {show: showMode};
  document.addEventListener("click", function (event) {
    var tab = event.target.closest && event.target.closest("[data-composer-tab]");
    if (tab) { showMode(tab.getAttribute("data-composer-tab"), true); }
  });

  // A reply over the limit comes back with an offer to send it in parts; "Keep editing" declines it.
  document.addEventListener("click", function (event) {
    var decline = event.target.closest && event.target.closest("[data-split-decline]");
    if (!decline) { return; }
    var form = decline.closest("form");
    decline.closest("[data-split-offer]").remove();
    form.querySelector("textarea[name=body]").focus();
  });

  // -- "@" in a note ---------------------------------------------------------------------------------
  var TOKEN = /(^|\s)@([^@\n]{0,40})$/;
  var picker = null;  // {textarea, list, matches, active, start}

  function pickerOf(textarea) { return textarea.closest("form").querySelector("[data-mention-picker]"); }
  function close() {
    if (!picker) { return; }
    pickerOf(picker.textarea).hidden = true;
    picker.textarea.setAttribute("aria-expanded", "false");
    picker = null;
  }
  function render() {
    var list = pickerOf(picker.textarea).querySelector("[role=listbox]");
    list.textContent = "";
    picker.matches.forEach(function (name, index) {
      var option = document.createElement("li");
      option.setAttribute("role", "option");
      option.id = "mention-option-" + index;
      option.setAttribute("data-index", index);
      option.setAttribute("aria-selected", String(index === picker.active));
      option.textContent = name;
      list.appendChild(option);
    });
    pickerOf(picker.textarea).hidden = picker.matches.length === 0;
    picker.textarea.setAttribute("aria-expanded", String(picker.matches.length > 0));
  }
  function choose(index) {
    var name = picker.matches[index];
    var textarea = picker.textarea;
    var caret = textarea.selectionStart;
    var text = "@" + name + " ";
    textarea.value = textarea.value.slice(0, picker.start) + text + textarea.value.slice(caret);
    var at = picker.start + text.length;
    close();
    textarea.setSelectionRange(at, at);
    textarea.focus();
  }
  document.addEventListener("input", function (event) {
    var textarea = event.target;
    if (!textarea.matches || !textarea.matches("textarea[data-mention-names]")) { return; }
    var match = TOKEN.exec(textarea.value.slice(0, textarea.selectionStart));
    if (!match) { close(); return; }
    var typed = match[2].toLowerCase();
    var names = JSON.parse(textarea.getAttribute("data-mention-names") || "[]");
    picker = {
      textarea: textarea,
      matches: names.filter(function (name) { return name.toLowerCase().indexOf(typed) === 0; }),
      active: 0,
      start: textarea.selectionStart - match[2].length - 1
    };
    render();
  });
  document.addEventListener("keydown", function (event) {
    if (!picker || event.target !== picker.textarea || !picker.matches.length) { return; }
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      picker.active = (picker.active + step + picker.matches.length) % picker.matches.length;
      render();
    } else if (event.key === "Enter" || event.key === "Tab") {
      event.preventDefault();
      choose(picker.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      close();
    }
  });
  // Leaving the note box closes the list (a click on a name chooses it first, on mousedown).
  document.addEventListener("focusout", function (event) {
    if (picker && event.target === picker.textarea) { close(); }
  });
  document.addEventListener("mousedown", function (event) {
    var option = picker && event.target.closest && event.target.closest("[data-mention-picker] [role=option]");
    if (option) {
      event.preventDefault();
      choose(Number(option.getAttribute("data-index")));
    }
  });

  // -- live mentions -----------------------------------------------------------------------------------
  var sources = new WeakSet();
  function heard(event) {
    var data = JSON.parse(event.data);
    var link = document.getElementById("mentions-link");
    if (!link) { return; }
    var badge = link.querySelector("[data-mention-count]");
    badge.textContent = String(Number(badge.textContent || 0) + 1);
    badge.hidden = false;
    var flashes = document.getElementById("flashes");
    var notice = document.createElement("div");
    notice.className = "flash flash-info mention-notice";
    notice.setAttribute("role", "status");
    var open = document.createElement("a");
    open.href = link.getAttribute("data-thread-url").replace("0", String(data.conversation)) + "#message-" + data.message;
    open.textContent = link.getAttribute("data-label-mentioned").replace("{name}", data.title || "");
    notice.appendChild(open);
    flashes.appendChild(notice);
  }
  document.addEventListener("htmx:sseOpen", function (event) {
    var source = event.detail.source;
    if (sources.has(source)) { return; }
    sources.add(source);
    source.addEventListener("mention", heard);
  });
})();
