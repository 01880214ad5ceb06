// Attachments and voice notes in the reply box (portal/templates/inbox/_attachments.html).
// A file comes from the picker, a drop on the reply form or a paste into the reply box; it is
// checked against the channel's kinds, MIME types and sizes before anything is uploaded (the
// server checks again, from the content). With a file attached, the reply form's own HTMX post
// goes to the attachments URL as multipart/form-data, its text becoming the caption, so the
// collision guard, the composer swap and the thread refresh stay the reply's. A quick reply that
// carries a file (quick_replies.js) attaches it by id: the post names it and the server sends it.
// Voice notes: MediaRecorder records Ogg/Opus where the browser can; Chromium records only
// WebM/Opus, whose Opus packets are moved here, unchanged, into an Ogg stream (RFC 7845), the
// container WhatsApp plays as a voice note.
(function () {
  "use strict";

  function boxOf(element) {
    var form = element && element.closest && element.closest("form");
    return form ? form.querySelector("[data-attachments]") : null;
  }

  function rulesOf(box) { return JSON.parse(box.getAttribute("data-rules")); }

  function text(box, name, values) {
    var message = box.getAttribute("data-text-" + name) || "";
    Object.keys(values || {}).forEach(function (key) { message = message.split("{" + key + "}").join(values[key]); });
    return message;
  }

  function humanSize(bytes) {
    if (bytes >= 1024 * 1024) { return (Math.round(bytes / 1024 / 1024 * 10) / 10) + " MB"; }
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function showError(box, message) {
    var error = box.querySelector("[data-attachment-error]");
    error.textContent = message || "";
    error.hidden = !message;
  }

  // The MIME type the file claims (its browser type, else its extension), as the server names it.
  function claimedType(rules, file) {
    var type = (file.type || "").split(";")[0].trim().toLowerCase();
    type = rules.aliases[type] || type;
    if (type && type !== "application/octet-stream") { return type; }
    var dot = file.name.lastIndexOf(".");
    return dot >= 0 ? (rules.extensions[file.name.slice(dot).toLowerCase()] || "") : "";
  }

  // Why the file cannot go, or "" when it may be uploaded.
  function refusal(box, file) {
    var rules = rulesOf(box);
    if (/[\/\\\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/.test(file.name)) { return text(box, "bad-name"); }
    if (!file.size) { return text(box, "empty", {name: file.name}); }
    var type = claimedType(rules, file);
    var kind = rules.kinds.filter(function (k) { return k.types.indexOf(type) >= 0; })[0];
    if (!kind) { return text(box, "not-allowed", {name: file.name}); }
    if (file.size > kind.max) {
      return text(box, "too-big", {name: file.name, size: humanSize(file.size), kind: kind.label, max: kind.maxText});
    }
    return "";
  }

  function kindOf(box, file) {
    var rules = rulesOf(box);
    var type = claimedType(rules, file);
    return rules.kinds.filter(function (k) { return k.types.indexOf(type) >= 0; })[0];
  }

  // The composer's counter (quick_replies.js) counts against a caption while a file is attached.
  function changed(box) {
    box.dispatchEvent(new CustomEvent("atende:attachment-change", {bubbles: true}));
  }

  function showChip(box, name, size) {
    box.querySelector("[data-attachment-name]").textContent = name;
    box.querySelector("[data-attachment-size]").textContent = size;
    box.querySelector("[data-attachment-chip]").hidden = false;
  }

  function attach(box, file, voice) {
    clear(box);
    var reason = refusal(box, file);
    if (reason) { showError(box, reason); return false; }
    var input = box.querySelector("[data-attachment-input]");
    var transfer = new DataTransfer();
    transfer.items.add(file);
    input.files = transfer.files;
    box.querySelector("[data-attachment-voice]").disabled = !voice;
    showChip(box, voice ? text(box, "voice-name") : file.name, humanSize(file.size));
    box.closest("form").setAttribute("hx-encoding", "multipart/form-data");
    changed(box);
    return true;
  }

  // A quick reply that carries a file (picked with "/"): the server sends the file it keeps.
  function attachQuickReplyFile(box, reply) {
    clear(box);
    var field = box.querySelector("[data-quick-reply-file]");
    field.value = reply.id;
    field.disabled = false;
    showChip(box, reply.attachment.name, reply.attachment.size);
    changed(box);
  }

  function clear(box) {
    var input = box.querySelector("[data-attachment-input]");
    input.value = "";
    box.querySelector("[data-attachment-voice]").disabled = true;
    var field = box.querySelector("[data-quick-reply-file]");
    field.value = "";
    field.disabled = true;
    box.querySelector("[data-attachment-chip]").hidden = true;
    box.closest("form").removeAttribute("hx-encoding");
    showError(box, "");
    changed(box);
  }

  function attached(box) {
    var input = box && box.querySelector("[data-attachment-input]");
    return input && input.files.length ? input.files[0] : null;
  }

  function quickReplyFileAttached(box) {
    var field = box && box.querySelector("[data-quick-reply-file]");
    return Boolean(field && !field.disabled);
  }

  document.addEventListener("atende:quick-reply-file", function (event) {
    var box = boxOf(event.target);
    if (box) { attachQuickReplyFile(box, event.detail); }
  });

  document.addEventListener("click", function (event) {
    var box = boxOf(event.target);
    if (!box) { return; }
    if (event.target.closest("[data-attachment-pick]")) { box.querySelector("[data-attachment-input]").click(); }
    if (event.target.closest("[data-attachment-remove]")) { clear(box); }
    if (event.target.closest("[data-voice-record]")) { startRecording(box); }
    if (event.target.closest("[data-voice-stop]")) { stopRecording(box, true); }
    if (event.target.closest("[data-voice-cancel]")) { stopRecording(box, false); }
  });

  document.addEventListener("change", function (event) {
    if (!event.target.matches || !event.target.matches("[data-attachment-input]")) { return; }
    var box = boxOf(event.target);
    var file = event.target.files[0];
    if (file) { attach(box, file, false); }
  });

  document.addEventListener("paste", function (event) {
    var box = boxOf(event.target);
    var files = event.clipboardData && event.clipboardData.files;
    if (!box || !files || !files.length) { return; }
    event.preventDefault();
    attach(box, files[0], false);
  });

  function dropTarget(event) {
    var form = event.target.closest && event.target.closest("form");
    return form && form.querySelector("[data-attachments]") && event.dataTransfer &&
      Array.prototype.indexOf.call(event.dataTransfer.types, "Files") >= 0 ? form : null;
  }
  document.addEventListener("dragover", function (event) {
    var form = dropTarget(event);
    if (!form) { return; }
    event.preventDefault();
    form.classList.add("drop-active");
    form.querySelector("[data-drop-hint]").hidden = false;
  });
  document.addEventListener("dragleave", function (event) {
    var form = dropTarget(event);
    if (form && !form.contains(event.relatedTarget)) {
      form.classList.remove("drop-active");
      form.querySelector("[data-drop-hint]").hidden = true;
    }
  });
  document.addEventListener("drop", function (event) {
    var form = dropTarget(event);
    if (!form) { return; }
    event.preventDefault();
    form.classList.remove("drop-active");
    form.querySelector("[data-drop-hint]").hidden = true;
    if (event.dataTransfer.files.length) { attach(form.querySelector("[data-attachments]"), event.dataTransfer.files[0], false); }
  });

  // With a file attached the reply form posts it, as multipart, to the attachments URL.
  document.addEventListener("htmx:configRequest", function (event) {
    var box = boxOf(event.detail.elt);
    if (quickReplyFileAttached(box)) { event.detail.path = box.getAttribute("data-url"); return; }
    var file = attached(box);
    if (!file) { return; }
    var kind = kindOf(box, file);
    var caption = (box.closest("form").querySelector("textarea[name=body]") || {}).value || "";
    if (kind && kind.name === "audio" && caption.trim()) {
      event.preventDefault();
      showError(box, text(box, "audio-caption"));
      return;
    }
    event.detail.path = box.getAttribute("data-url");
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    var box = boxOf(event.detail.elt || event.target);
    if (!attached(box) || !event.detail.lengthComputable) { return; }
    var bar = box.querySelector("[data-attachment-progress]");
    bar.hidden = false;
    bar.value = Math.round(event.detail.loaded / event.detail.total * 100);
  });
  // A refused attachment comes back as the composer with the reason (413 or 422): shown like a reply's.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var box = boxOf(event.detail.requestConfig && event.detail.requestConfig.elt);
    var status = event.detail.xhr.status;
    if (box && (status === 413 || status === 422) && event.detail.requestConfig.path === box.getAttribute("data-url")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // -- voice notes ---------------------------------------------------------------------------------
  var recording = null;  // {box, recorder, stream, chunks, keep, started, timer}

  function recorderType() {
    if (!window.MediaRecorder) { return null; }
    var types = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus"];
    return types.filter(function (type) { return MediaRecorder.isTypeSupported(type); })[0] || null;
  }

  function startRecording(box) {
    if (recording) { return; }
    var type = recorderType();
    if (!type || !navigator.mediaDevices) { showError(box, text(box, "no-recorder")); return; }
    clear(box);
    navigator.mediaDevices.getUserMedia({audio: true}).then(function (stream) {
      var recorder = new MediaRecorder(stream, {mimeType: type});
      recording = {box: box, recorder: recorder, stream: stream, chunks: [], keep: false, started: Date.now()};
      recorder.addEventListener("dataavailable", function (event) { if (event.data.size) { recording.chunks.push(event.data); } });
      recorder.addEventListener("stop", finishRecording);
      recorder.start(250);
      box.querySelector("[data-voice-status]").hidden = false;
      box.querySelector("[data-voice-record]").setAttribute("aria-pressed", "true");
      recording.timer = window.setInterval(function () {
        var seconds = Math.floor((Date.now() - recording.started) / 1000);
        box.querySelector("[data-voice-timer]").textContent =
          Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
      }, 250);
    }, function () { showError(box, text(box, "no-microphone")); });
  }

  function stopRecording(box, keep) {
    if (!recording || recording.box !== box) { return; }
    recording.keep = keep;
    recording.recorder.stop();
  }

  function finishRecording() {
    var done = recording;
    recording = null;
    window.clearInterval(done.timer);
    done.stream.getTracks().forEach(function (track) { track.stop(); });
    done.box.querySelector("[data-voice-status]").hidden = true;
    done.box.querySelector("[data-voice-record]").setAttribute("aria-pressed", "false");
    if (!done.keep) { return; }
    var type = done.recorder.mimeType || "";
    new Blob(done.chunks, {type: type}).arrayBuffer().then(function (buffer) {
      var ogg = type.indexOf("ogg") >= 0 ? new Uint8Array(buffer) : webmOpusToOgg(new Uint8Array(buffer));
      var stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
      var file = new File([ogg], "voice-note-" + stamp + ".ogg", {type: "audio/ogg"});
      attach(done.box, file, true);
    });
  }

  // -- WebM/Opus to Ogg/Opus ---------------------------------------------------------------------
  // WebM (Matroska): elements of an ID and a size, both variable-length integers; MediaRecorder
  // writes the Segment and its Clusters with an unknown size, so masters are walked into, never
  // skipped. What is kept: the OpusHead in CodecPrivate and each (Simple)Block's Opus packet.
  var MASTERS = {0x18538067: 1, 0x1F43B675: 1, 0x1654AE6B: 1, 0xAE: 1, 0xA0: 1};

  function readVint(bytes, at, keepMarker) {
    var first = bytes[at], length = 1, mask = 0x80;
    while (length <= 8 && !(first & mask)) { length += 1; mask >>= 1; }
    var value = keepMarker ? first : first & (mask - 1), unknown = (first & (mask - 1)) === mask - 1;
    for (var i = 1; i < length; i += 1) {
      value = value * 256 + bytes[at + i];
      if (bytes[at + i] !== 0xFF) { unknown = false; }
    }
    return {value: value, length: length, unknown: unknown};
  }

  function webmOpusToOgg(bytes) {
    var head = null, packets = [], at = 0;
    while (at < bytes.length) {
      var id = readVint(bytes, at, true);
      var size = readVint(bytes, at + id.length, false);
      var start = at + id.length + size.length;
      if (MASTERS[id.value]) { at = start; continue; }
      var end = size.unknown ? bytes.length : Math.min(bytes.length, start + size.value);
      if (id.value === 0x63A2) { head = bytes.slice(start, end); }
      if (id.value === 0xA3 || id.value === 0xA1) {
        var track = readVint(bytes, start, false);
        packets.push(bytes.slice(start + track.length + 3, end));  // track, 16-bit timecode, flags
      }
      at = end;
    }
    if (!head) {  // RFC 7845 5.1: version 1, mono, 312 samples of pre-skip, 48 kHz, no gain, family 0
      head = new Uint8Array([79, 112, 117, 115, 72, 101, 97, 100, 1, 1, 56, 1, 128, 187, 0, 0, 0, 0, 0]);
    }
    var vendor = new TextEncoder().encode("atende");
    var tags = new Uint8Array(8 + 4 + vendor.length + 4);
    tags.set(new TextEncoder().encode("OpusTags"), 0);
    new DataView(tags.buffer).setUint32(8, vendor.length, true);
    tags.set(vendor, 12);
    var pages = [oggPage(head, 0, 0, 2), oggPage(tags, 0, 1, 0)];
    var granule = 0;
    packets.forEach(function (packet, index) {
      granule += opusSamples(packet);
      pages.push(oggPage(packet, granule, index + 2, index === packets.length - 1 ? 4 : 0));
    });
    var total = pages.reduce(function (sum, page) { return sum + page.length; }, 0);
    var out = new Uint8Array(total), offset = 0;
    pages.forEach(function (page) { out.set(page, offset); offset += page.length; });
    return out;
  }

  // Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 3.1).
  function opusSamples(packet) {
    if (!packet.length) { return 0; }
    var config = packet[0] >> 3, code = packet[0] & 3;
    var perFrame = config < 12 ? [480, 960, 1920, 2880][config & 3]
      : config < 16 ? [480, 960][config & 1]
      : [120, 240, 480, 960][config & 3];
    var frames = code === 0 ? 1 : code === 3 ? (packet[1] & 0x3F) : 2;
    return perFrame * frames;
  }

  var CRC_TABLE = (function () {
    var table = new Uint32Array(256);
    for (var i = 0; i < 256; i += 1) {
      var r = i << 24;
      for (var j = 0; j < 8; j += 1) { r = (r & 0x80000000) ? ((r << 1) ^ 0x04C11DB7) : (r << 1); }
      table[i] = r >>> 0;
    }
    return table;
  })();

  // One Ogg page holding one packet (RFC 3533): flags 2 starts the stream, 4 ends it.
  function oggPage(packet, granule, sequence, flags) {
    var lacing = [];
    for (var left = packet.length; left >= 255; left -= 255) { lacing.push(255); }
    lacing.push(packet.length % 255);
    var page = new Uint8Array(27 + lacing.length + packet.length);
    var view = new DataView(page.buffer);
    page.set([79, 103, 103, 83, 0, flags], 0);
    view.setUint32(6, granule % 4294967296, true);
    view.setUint32(10, Math.floor(granule / 4294967296), true);
    view.setUint32(14, 0x41544E44, true);  // the stream's serial number
    view.setUint32(18, sequence, true);
    page[26] = lacing.length;
    page.set(lacing, 27);
    page.set(packet, 27 + lacing.length);
    var crc = 0;
    for (var i = 0; i < page.length; i += 1) { crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ page[i]) & 0xFF]) >>> 0; }
    view.setUint32(22, crc, true);
    return page;
  }
})();
