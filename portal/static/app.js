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
// Inbox thread: answer a specific message.
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
})();
// Live updates (docs/architecture.md, "Live updates"): one Server-Sent Events stream per tab,
// opened by HTMX's sse extension on #live. A change refreshes the list and the open thread through
// their own fragments (keeping loaded rows, scroll position and focus), updates the unread count
// in the tab title and, when the agent chose so on their profile, plays a sound or shows a desktop
// notification. While the stream is down the page polls those fragments instead. Presence: the
// open thread beats "viewing" (and "typing") by POST and shows who else is there.
(function () {
  "use strict";
  var live = null;          // the #live element, once the page has loaded
  var connected = false;
  var everConnected = false;
  var lastEventId = null;
  var baseTitle = document.title.replace(/^\(\d+\) /, "");
  var timers = {};

  function later(name, ms, fn) {
    if (timers[name]) { return; }
    timers[name] = window.setTimeout(function () { timers[name] = null; fn(); }, ms);
  }
  function refresh(selector) {
    document.querySelectorAll(selector).forEach(function (el) { htmx.trigger(el, "atende:refresh"); });
  }
  function refreshAll() {
    refresh("[data-live-refresh]");
    updateUnread();
  }
  function updateUnread() {
    if (!live) { return; }
    fetch(live.getAttribute("data-title-count-url"), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (!body) { return; }
        document.title = (body.conversations > 0 ? "(" + body.conversations + ") " : "") + baseTitle;
      })
      .catch(function () {});
  }
  function openThreadId() {
    var thread = document.querySelector("[data-live-refresh=thread]");
    return thread ? Number(thread.getAttribute("data-conversation-id")) : null;
  }
  function alertFor(data) {
    var me = Number(live.getAttribute("data-agent-id"));
    var fromCustomer = data.type === "conversation.created" ||
      (data.type === "message.created" && data.direction === "inbound");
    if (!fromCustomer || data.actor === me) { return; }
    if (live.hasAttribute("data-alert-sound")) {
      var sound = new Audio(live.getAttribute("data-sound-url"));
      sound.play().catch(function () {});  // the browser may refuse before the first click
    }
    var looking = !document.hidden && openThreadId() === data.conversation;
    if (live.hasAttribute("data-alert-desktop") && !looking &&
        window.Notification && Notification.permission === "granted") {
      var heading = data.type === "conversation.created" ?
        live.getAttribute("data-label-new-conversation") : live.getAttribute("data-label-new-message");
      var note = new Notification(heading, {body: data.title || "", tag: "atende-" + data.conversation});
      note.onclick = function () { window.focus(); window.location.href = live.getAttribute("data-thread-url").replace("0", data.conversation); };
    }
  }
  function onChange(event) {
    lastEventId = event.lastEventId || lastEventId;
    var data = JSON.parse(event.data);
    document.dispatchEvent(new CustomEvent("atende:live-change", {detail: data}));
    later("list", 150, function () { refresh("[data-live-refresh=list]"); });
    if (openThreadId() === data.conversation) {
      later("thread", 150, function () { refresh("[data-live-refresh=thread]"); });
    }
    if (data.type !== "message.status_changed") { later("unread", 300, updateUnread); }
    if (event.type === "change" && !catchingUp) { alertFor(data); }
  }
  // An SLA warning (docs/architecture.md, "SLA"): the list refreshes (its row shows the badge)
  // and a notice links to the conversation.
  function onSlaWarning(event) {
    onChange(event);
    var data = JSON.parse(event.data);
    var flashes = document.getElementById("flashes");
    if (!flashes || !live) { return; }
    var notice = document.createElement("div");
    notice.className = "flash flash-warning sla-notice";
    notice.setAttribute("role", "status");
    var open = document.createElement("a");
    open.href = live.getAttribute("data-thread-url").replace("0", String(data.conversation));
    var label = data.target === "resolution" ? "data-label-sla-resolution" : "data-label-sla-first-response";
    open.textContent = live.getAttribute(label).replace("{name}", data.title || "");
    notice.appendChild(open);
    flashes.appendChild(notice);
  }
  var catchingUp = true;
  function onReady(event) {
    lastEventId = event.lastEventId || lastEventId;
    connected = true;
    catchingUp = false;
    live.setAttribute("data-live-connected", "");
    if (everConnected) { refreshAll(); }  // whatever the polls and the catch-up did not show
    everConnected = true;
  }
  var sources = new WeakSet();
  document.addEventListener("htmx:sseOpen", function (event) {
    var source = event.detail.source;
    if (sources.has(source)) { catchingUp = true; return; }
    sources.add(source);
    catchingUp = true;
    source.addEventListener("change", onChange);
    source.addEventListener("sla", onSlaWarning);
    source.addEventListener("ready", onReady);
    source.addEventListener("reset", function () { refreshAll(); });
    source.addEventListener("presence", function (e) { presence.heard(JSON.parse(e.data)); });
  });
  // Reading a thread, or "Mark as unread", changes the count in the title.
  document.addEventListener("atende:read-changed", function () { later("unread", 300, updateUnread); });
  document.addEventListener("htmx:sseError", function () {
    connected = false;
    if (live) { live.removeAttribute("data-live-connected"); }
  });
  document.addEventListener("htmx:sseClose", function () { connected = false; });
  // A new EventSource (after the old one gave up) carries the last id in its URL, since only the
  // browser's own reconnection sends the Last-Event-ID header.
  document.addEventListener("DOMContentLoaded", function () {
    htmx.createEventSource = function (url) {
      if (lastEventId) { url += (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(lastEventId); }
      return new EventSource(url, {withCredentials: true});
    };
    live = document.getElementById("live");
    if (!live) { return; }
    updateUnread();
    var seconds = Number(live.getAttribute("data-poll-seconds")) || 5;
    window.setInterval(function () { if (!connected) { refresh("[data-live-refresh]"); } }, seconds * 1000);
  });

  // The list asks for as many rows as are loaded; a refresh keeps scroll position and focus.
  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.getAttribute && elt.getAttribute("data-live-refresh") === "list") {
      event.detail.parameters.loaded = document.querySelectorAll("#inbox-list [data-conversation-id]").length;
    }
  });
  var kept = null;
  function scroller(el) {
    for (var node = el; node && node !== document.body; node = node.parentElement) {
      if (node.scrollHeight > node.clientHeight && getComputedStyle(node).overflowY !== "visible") { return node; }
    }
    return document.scrollingElement;
  }
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (!elt || !elt.hasAttribute || !elt.hasAttribute("data-live-refresh")) { kept = null; return; }
    var target = event.detail.target;
    var box = scroller(target);
    var focused = document.activeElement;
    kept = {
      targetId: target.id,
      ownScroll: box === target,
      top: box.scrollTop,
      atBottom: box.scrollTop + box.clientHeight >= box.scrollHeight - 4,
      box: box === target ? null : box,
      focusId: focused && target.contains(focused) && focused.id ? focused.id : null
    };
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!kept) { return; }
    var state = kept;
    kept = null;
    var box = state.ownScroll ? document.getElementById(state.targetId) : state.box;
    if (box) {
      var thread = state.targetId === "messages";
      box.scrollTop = thread && state.atBottom ? box.scrollHeight : state.top;
    }
    var focus = state.focusId && document.getElementById(state.focusId);
    if (focus) { focus.focus({preventScroll: true}); }
  });

  // Presence in the open thread: beats every few seconds while the tab is visible; others' beats
  // expire after a few seconds without a new one.
  var VIEWING_MS = 12000;
  var TYPING_MS = 5000;
  var presence = {
    others: {},
    box: function () { return document.querySelector("[data-presence-url]"); },
    beat: function (state) {
      var box = presence.box();
      if (!box || (document.hidden && state !== "left")) { return; }
      var body = new URLSearchParams({state: state});
      var csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || "";
      fetch(box.getAttribute("data-presence-url"), {
        method: "POST", body: body, credentials: "same-origin", keepalive: state === "left",
        headers: {"X-CSRFToken": csrf}
      }).catch(function () {});
    },
    heard: function (data) {
      var box = presence.box();
      if (!box || Number(box.getAttribute("data-conversation-id")) !== data.conversation) { return; }
      if (data.state === "left") { delete presence.others[data.agent]; }
      else {
        var entry = presence.others[data.agent] || {};
        entry.name = data.name;
        entry.seen = Date.now();
        if (data.state === "typing") { entry.typing = Date.now(); }
        presence.others[data.agent] = entry;
      }
      presence.render();
    },
    render: function () {
      var box = presence.box();
      if (!box) { return; }
      var now = Date.now();
      var viewing = [];
      var typing = [];
      Object.keys(presence.others).forEach(function (id) {
        var entry = presence.others[id];
        if (now - entry.seen > VIEWING_MS) { delete presence.others[id]; return; }
        if (entry.typing && now - entry.typing <= TYPING_MS) { typing.push(entry.name); }
        else { viewing.push(entry.name); }
      });
      var parts = [];
      if (viewing.length) { parts.push(box.getAttribute("data-label-viewing").replace("{names}", viewing.join(", "))); }
      if (typing.length) { parts.push(box.getAttribute("data-label-typing").replace("{names}", typing.join(", "))); }
      box.textContent = parts.join(" · ");
      box.hidden = parts.length === 0;
    }
  };
  // Set up on every page: a thread may arrive later by an HTMX swap; beats need a presence box.
  document.addEventListener("DOMContentLoaded", function () {
    presence.beat("viewing");
    window.setInterval(function () { presence.beat("viewing"); }, 5000);
    window.setInterval(presence.render, 1000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { presence.beat("viewing"); } });
    window.addEventListener("pagehide", function () { presence.beat("left"); });
    var lastTyping = 0;
    document.addEventListener("input", function (event) {
      if (!event.target.matches || !event.target.matches("form[data-reply-form] textarea")) { return; }
      if (Date.now() - lastTyping > 2000) { lastTyping = Date.now(); presence.beat("typing"); }
    });
  });
  // The profile's desktop-notification choice asks the browser's permission when ticked.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (box.matches && box.matches("input[data-asks-notification-permission]") && box.checked &&
        window.Notification && Notification.permission === "default") {
      Notification.requestPermission();
    }
  });
})();
// Inbox read state (portal/services/read_state.py): the open thread is marked read by a POST, and
// only while the page is visible, so a background tab or a poll marks nothing and sends the
// customer no read receipt. "Mark as unread" holds off until a newer message arrives.
(function () {
  "use strict";
  var posted = {};
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }
  function markShownRead() {
    var thread = document.getElementById("messages");
    if (!thread || document.visibilityState !== "visible") { return; }
    var url = thread.getAttribute("data-read-url");
    var newest = Number(thread.getAttribute("data-newest-message") || 0);
    if (!newest || (posted[url] || 0) >= newest) { return; }
    posted[url] = newest;
    var body = new URLSearchParams({up_to: String(newest)});
    fetch(url, {method: "POST", body: body, credentials: "same-origin",
                headers: {"X-CSRFToken": csrfToken(), "HX-Request": "true"}})
      .then(function (response) {
        if (!response.ok) { delete posted[url]; return; }
        document.dispatchEvent(new CustomEvent("atende:read-changed"));
      })
      .catch(function () { delete posted[url]; });
  }
  document.addEventListener("DOMContentLoaded", markShownRead);
  document.addEventListener("htmx:afterSettle", function (event) {
    // Opening a conversation again reads it again, even after "Mark as unread".
    if (event.detail.target && event.detail.target.id === "conversation-pane") { posted = {}; }
    markShownRead();
  });
  document.addEventListener("visibilitychange", markShownRead);
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target;
    if (!event.detail.successful || !form.matches || !form.matches("form[data-mark-unread]")) { return; }
    var thread = document.getElementById("messages");
    if (thread) {
      posted[thread.getAttribute("data-read-url")] = Number(thread.getAttribute("data-newest-message") || 0);
    }
    var note = form.querySelector("[data-marked-unread]");
    if (note) { note.hidden = false; }
    document.dispatchEvent(new CustomEvent("atende:read-changed"));
  });
  // Earlier messages put above the shown ones may repeat the first day's separator.
  document.addEventListener("htmx:afterSwap", function () {
    var seen = {};
    document.querySelectorAll(".msg-list .day-separator").forEach(function (separator) {
      var day = separator.getAttribute("data-day");
      if (seen[day]) { separator.remove(); } else { seen[day] = true; }
    });
  });
})();
// Phone width: the header's menu button shows and hides the navigation.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-menu-toggle]");
    if (!toggle) { return; }
    var open = toggle.getAttribute("aria-expanded") !== "true";
    toggle.setAttribute("aria-expanded", String(open));
    toggle.closest(".topbar").classList.toggle("menu-open", open);
  });
})();
// Inbox workspace: choosing a conversation swaps #conversation-pane (HTMX pushes its URL). The
// list pane is never re-rendered, so its filters, loaded pages and scroll stay; HTMX's history
// snapshot carries them back on "back" (typed values and scroll written into the snapshot here).
(function () {
  "use strict";
  function workspace() { return document.getElementById("workspace"); }
  function scrollThreadToNewest() {
    var messages = document.querySelector(".conversation-pane .messages");
    if (messages) { messages.scrollTop = messages.scrollHeight; }
    var composer = document.getElementById("composer");
    if (composer && window.matchMedia("(max-width: 800px)").matches) { composer.scrollIntoView({block: "end"}); }
  }
  function markCurrentRow(id) {
    document.querySelectorAll(".conversation-row[aria-current]").forEach(function (row) { row.removeAttribute("aria-current"); });
    var row = id && document.querySelector('.conversation-row[data-conversation-id="' + id + '"]');
    if (row) { row.setAttribute("aria-current", "true"); }
  }
  document.addEventListener("htmx:afterSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "conversation-pane") { return; }
    var thread = event.detail.target.querySelector("[data-conversation-id]");
    workspace().classList.add("showing-conversation");
    workspace().classList.remove("showing-details");
    markCurrentRow(thread && thread.getAttribute("data-conversation-id"));
    scrollThreadToNewest();
    window.scrollTo(0, 0);
  });
  document.addEventListener("DOMContentLoaded", function () {
    if (workspace()) { scrollThreadToNewest(); }
  });
  // The search box already searches as one types; the "change" it fires on losing focus (say,
  // by clicking "Older conversations") would reload the first page over the loaded ones.
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-list-pane] input[type=search]")) { event.stopPropagation(); }
  }, true);
  // Back on a phone: when the list is the page we came from, go back to it (HTMX restores it as
  // it was); a deep link has no such page behind it, so the link opens the inbox.
  // On a phone the details replace the thread and back; without script the links' #targets do it.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest("[data-show-details], [data-show-thread]");
    if (!toggle || !workspace()) { return; }
    event.preventDefault();
    workspace().classList.toggle("showing-details", toggle.hasAttribute("data-show-details"));
    window.scrollTo(0, 0);
  });
  document.addEventListener("click", function (event) {
    var back = event.target.closest && event.target.closest("[data-back-to-list]");
    if (back && history.state && history.state.htmx) {
      event.preventDefault();
      history.back();
    }
  });
  document.addEventListener("htmx:beforeHistorySave", function (event) {
    var saved = event.detail.historyElt;
    saved.querySelectorAll("input").forEach(function (input) {
      if (input.type === "radio" || input.type === "checkbox") {
        input.toggleAttribute("checked", input.checked);
      } else if (input.type !== "hidden" && input.type !== "file") {
        input.setAttribute("value", input.value);
      }
    });
    saved.querySelectorAll("select option").forEach(function (option) {
      option.toggleAttribute("selected", option.selected);
    });
    saved.querySelectorAll("[data-list-pane]").forEach(function (pane) {
      pane.setAttribute("data-scroll-top", String(pane.scrollTop));
    });
  });
  document.addEventListener("htmx:historyRestore", function () {
    document.querySelectorAll("[data-list-pane][data-scroll-top]").forEach(function (pane) {
      pane.scrollTop = Number(pane.getAttribute("data-scroll-top"));
    });
  });
})();
// Details pane: a control marked data-autosave saves on change; when the request fails (no
// answer, an error page) the control goes back to the saved value and the reason shows inline.
// A live update may re-render the pane while a save is on its way, leaving the form that sent it
// out of the page, where its events reach no document listener: so each autosave form is heard
// on itself, and the outcome lands in the pane as it is now. A re-render keeps a shown reason.
(function () {
  "use strict";
  var heard = new WeakSet();
  function pane() { return document.getElementById("conversation-details"); }
  function failed(form, xhr) {
    var current = pane();
    if (!current) { return; }
    if (current.contains(form)) { form.reset(); }  // else the new pane already shows saved values
    var box = current.querySelector("[data-save-failed]");
    var note = box && box.querySelector("[data-save-error]");
    if (!note) { return; }
    note.textContent = box.getAttribute(xhr && xhr.status ? "data-save-refused" : "data-save-failed");
    note.hidden = false;
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-autosave]") || heard.has(form)) { return; }
    heard.add(form);
    form.addEventListener("htmx:beforeSwap", function (swap) {
      // The pane this save answers was replaced meanwhile: the answer goes into its successor.
      var target = swap.detail.target;
      if (target && target.id === "conversation-details" && !target.isConnected && pane()) {
        swap.detail.target = pane();
      }
    });
    form.addEventListener("htmx:afterRequest", function (after) {
      if (after.target === form && !after.detail.successful) { failed(form, after.detail.xhr); }
    });
  });
  document.addEventListener("htmx:oobBeforeSwap", function (event) {
    if (!event.detail.target || event.detail.target.id !== "conversation-details") { return; }
    var shown = event.detail.target.querySelector("[data-save-error]:not([hidden])");
    var incoming = event.detail.fragment.querySelector("[data-save-error]");
    if (shown && incoming) {
      incoming.textContent = shown.textContent;
      incoming.hidden = false;
    }
  });
})();
