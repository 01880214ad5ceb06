// The reply box's helpers (portal/templates/quick_replies/_composer_tools.html): typing "/" at the
// start of a word opens the quick replies (filled on the server for this conversation; arrow keys,
// Enter, Esc, or the mouse; a reply that carries a file attaches it through attachments.js), an
// emoji picker, and a counter against the channel's limit for one message, or for a caption while a
// file is attached. Everything listens on the document, so a composer swapped in by HTMX works at once.
(function () {
  "use strict";
  var TOKEN = /(^|\s)\/([^\s\/]*)$/;

  function toolsOf(element) {
    var form = element && element.closest && element.closest("form");
    return form ? form.querySelector("[data-composer-tools]") : null;
  }

  function textareaOf(tools) {
    return tools.closest("form").querySelector("textarea[name=body]");
  }

  function insertText(textarea, start, end, text) {
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    var caret = start + text.length;
    textarea.setSelectionRange(caret, caret);
    textarea.focus();
    textarea.dispatchEvent(new Event("input", {bubbles: true}));
  }

  // -- character counter -------------------------------------------------------------------------
  // "file", "quick-reply" (a quick reply's file, attachments.js) or "" while no file is attached.
  function attachmentOf(tools) {
    var form = tools.closest("form");
    var quickReply = form.querySelector("[data-quick-reply-file]");
    if (quickReply && !quickReply.disabled) { return "quick-reply"; }
    var input = form.querySelector("[data-attachment-input]");
    return input && input.files.length ? "file" : "";
  }

  // Against one message's limit, or a caption's while a file is attached (the text is its caption).
  function updateCounter(tools) {
    var counter = tools.querySelector("[data-char-counter]");
    var attachment = attachmentOf(tools);
    var max = parseInt(tools.getAttribute(attachment ? "data-caption-max-length" : "data-max-length"), 10);
    if (!counter || !max) { return; }
    // Code points, as the server counts them; a line break is sent as one character.
    var length = Array.from(textareaOf(tools).value.trim()).length;
    var over = length - max;
    var overText = {"": "data-over-text", "file": "data-over-caption-text", "quick-reply": "data-over-caption-quick-reply-text"};
    counter.classList.toggle("over-limit", over > 0);
    counter.textContent = over > 0
      ? counter.getAttribute(overText[attachment]).replace("{count}", over).replace("{max}", max)
      : length + " / " + max;
  }

  document.addEventListener("atende:attachment-change", function (event) {
    var tools = toolsOf(event.target);
    if (tools) { updateCounter(tools); }
  });

  // -- quick replies --------------------------------------------------------------------------------
  var picker = null;  // {tools, textarea, replies, matches, active, start}

  function listbox(tools) { return tools.querySelector("#quick-reply-options"); }

  function closePicker() {
    if (!picker) { return; }
    picker.tools.querySelector("[data-quick-reply-picker]").hidden = true;
    picker.textarea.setAttribute("aria-expanded", "false");
    picker.textarea.removeAttribute("aria-activedescendant");
    picker = null;
  }

  function render() {
    var list = listbox(picker.tools);
    list.textContent = "";
    picker.matches.forEach(function (reply, index) {
      var option = document.createElement("li");
      option.id = "quick-reply-option-" + reply.id;
      option.setAttribute("role", "option");
      option.setAttribute("data-index", index);
      option.setAttribute("aria-selected", index === picker.active ? "true" : "false");
      var shortcut = document.createElement("strong");
      shortcut.textContent = "/" + reply.shortcut;
      var scope = document.createElement("small");
      scope.className = "muted";
      scope.textContent = reply.scope;
      var body = document.createElement("span");
      body.className = "quick-reply-preview";
      body.textContent = reply.body;
      option.append(shortcut, " ", scope, body);
      if (reply.attachment) {
        var file = document.createElement("small");
        file.className = "quick-reply-file";
        file.textContent = "📎 " + reply.attachment.name + " (" + reply.attachment.size + ")";
        option.append(file);
      }
      list.appendChild(option);
    });
    picker.tools.querySelector("[data-quick-reply-empty]").hidden = picker.matches.length > 0;
    var active = picker.matches[picker.active];
    if (active) {
      picker.textarea.setAttribute("aria-activedescendant", "quick-reply-option-" + active.id);
      document.getElementById("quick-reply-option-" + active.id).scrollIntoView({block: "nearest"});
    } else {
      picker.textarea.removeAttribute("aria-activedescendant");
    }
  }

  function filter(query) {
    query = query.toLowerCase();
    var starts = [], contains = [];
    picker.replies.forEach(function (reply) {
      if (reply.shortcut.indexOf(query) === 0) { starts.push(reply); }
      else if (reply.shortcut.indexOf(query) > 0 || reply.body.toLowerCase().indexOf(query) >= 0) { contains.push(reply); }
    });
    picker.matches = starts.concat(contains);
    picker.active = 0;
    render();
  }

  function openPicker(tools, textarea, start, query) {
    if (picker && picker.textarea === textarea && picker.start === start) {
      if (picker.replies) { filter(query); }
      picker.query = query;
      return;
    }
    closePicker();
    picker = {tools: tools, textarea: textarea, replies: null, matches: [], active: 0, start: start, query: query};
    var current = picker;
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.setAttribute("aria-controls", "quick-reply-options");
    fetch(tools.getAttribute("data-picker-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : []; })
      .then(function (replies) {
        if (picker !== current) { return; }
        picker.replies = replies;
        tools.querySelector("[data-quick-reply-picker]").hidden = false;
        textarea.setAttribute("aria-expanded", "true");
        filter(picker.query);
      });
  }

  function choose(index) {
    var reply = picker && picker.matches[index];
    if (!reply) { return; }
    var textarea = picker.textarea;
    var start = picker.start;
    closePicker();
    insertText(textarea, start, textarea.selectionStart, reply.body);
    if (reply.attachment) {
      textarea.dispatchEvent(new CustomEvent("atende:quick-reply-file", {bubbles: true, detail: reply}));
    }
  }

  document.addEventListener("input", function (event) {
    var tools = toolsOf(event.target);
    if (!tools || event.target !== textareaOf(tools)) { return; }
    updateCounter(tools);
    var textarea = event.target;
    var before = textarea.value.slice(0, textarea.selectionStart);
    var match = TOKEN.exec(before);
    if (match) {
      openPicker(tools, textarea, before.length - match[2].length - 1, match[2]);
    } else {
      closePicker();
    }
  });

  document.addEventListener("keydown", function (event) {
    if (!picker || event.target !== picker.textarea || !picker.replies) { return; }
    var count = picker.matches.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!count) { return; }
      event.preventDefault();
      picker.active = (picker.active + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
      render();
    } else if (event.key === "Enter" && !event.ctrlKey && !event.metaKey && !event.shiftKey && count) {
      event.preventDefault();
      choose(picker.active);
    } else if (event.key === "Escape") {
      event.preventDefault();
      closePicker();
    }
  });

  // mousedown keeps the focus in the reply box; click inserts.
  document.addEventListener("mousedown", function (event) {
    if (event.target.closest && event.target.closest("#quick-reply-options [role=option]")) { event.preventDefault(); }
  });
  document.addEventListener("click", function (event) {
    var option = event.target.closest && event.target.closest("#quick-reply-options [role=option]");
    if (option && picker) { choose(parseInt(option.getAttribute("data-index"), 10)); }
  });
  document.addEventListener("focusout", function (event) {
    if (picker && event.target === picker.textarea) { closePicker(); }
  });

  // -- emoji ----------------------------------------------------------------------------------------
  var emojiData = null;

  function renderEmoji(panel, query) {
    var grid = panel.querySelector("[data-emoji-grid]");
    grid.textContent = "";
    query = query.trim().toLowerCase();
    Object.keys(emojiData).forEach(function (group) {
      emojiData[group].forEach(function (entry) {
        if (query && entry[1].indexOf(query) < 0) { return; }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "emoji";
        button.textContent = entry[0];
        button.title = entry[1];
        button.setAttribute("aria-label", entry[1]);
        button.setAttribute("data-emoji", entry[0]);
        grid.appendChild(button);
      });
    });
  }

  function setEmojiPanel(tools, open) {
    var panel = tools.querySelector("[data-emoji-panel]");
    var toggle = tools.querySelector("[data-emoji-toggle]");
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    if (!open) { return; }
    var search = panel.querySelector("[data-emoji-search]");
    var show = function () { renderEmoji(panel, search.value); search.focus(); };
    if (emojiData) { show(); return; }
    fetch(tools.getAttribute("data-emoji-url"))
      .then(function (response) { return response.json(); })
      .then(function (data) { emojiData = data; show(); });
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-emoji-toggle]");
    if (toggle) {
      var tools = toolsOf(toggle);
      setEmojiPanel(tools, tools.querySelector("[data-emoji-panel]").hidden);
      return;
    }
    var emoji = event.target.closest && event.target.closest("[data-emoji]");
    if (emoji) {
      var owner = toolsOf(emoji);
      var textarea = textareaOf(owner);
      setEmojiPanel(owner, false);
      insertText(textarea, textarea.selectionStart, textarea.selectionEnd, emoji.getAttribute("data-emoji"));
    }
  });
  document.addEventListener("input", function (event) {
    if (event.target.matches && event.target.matches("[data-emoji-search]") && emojiData) {
      renderEmoji(event.target.closest("[data-emoji-panel]"), event.target.value);
    }
  });
  document.addEventListener("keydown", function (event) {
    var panel = event.key === "Escape" && event.target.closest && event.target.closest("[data-emoji-panel]");
    if (panel) {
      var tools = toolsOf(panel);
      setEmojiPanel(tools, false);
      tools.querySelector("[data-emoji-toggle]").focus();
    }
  });

  function initCounters() {
    document.querySelectorAll("[data-composer-tools]").forEach(updateCounter);
  }
  document.addEventListener("DOMContentLoaded", initCounters);
  document.addEventListener("htmx:afterSettle", initCounters);
})();
