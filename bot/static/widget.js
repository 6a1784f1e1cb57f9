/*
 * Concierge chat widget. Embed it on any page with one tag:
 *
 *   <script src="https://your-gateway.example/widget.js" defer></script>
 *
 * Plain JavaScript, no build step, no dependencies. The widget talks to the gateway it was
 * loaded from (the origin of this script's src), so it works from any site (CORS on /api/*).
 * Its texts (title, subtitle, fallback) come from GET /api/widget/config, that is from the
 * company's settings; optional attributes on the script tag override them: data-title,
 * data-subtitle, data-fallback, and data-origin (another gateway address).
 *
 * Bot content is only ever inserted as text (textContent), never as HTML.
 *
 * Conversations: the first message goes without a token and the gateway answers with the
 * new conversation's id and a signed token; every later message (and feedback) sends
 * "Authorization: Bearer <token>", and each reply carries a renewed token, which replaces the
 * stored one. Both live in localStorage, so the conversation survives a reload. When the
 * gateway refuses the token (401: expired or not valid), the widget forgets it, tells the
 * customer, and sends the message again as the start of a new conversation.
 *
 * Live push: once it has a token the widget listens on GET /api/chat/events (server-sent
 * events, read with fetch so the token travels in the Authorization header) and shows what
 * arrives without the customer typing: a person's replies, "a person has joined", the
 * hand-back. The last event id is kept in localStorage and sent as Last-Event-ID when the
 * stream reconnects, so nothing is lost or shown twice.
 */
(function () {
  "use strict";

  if (window.ConciergeWidget) {
    return; // loaded twice: keep the first instance
  }

  var TOKEN_KEY = "concierge.token";
  var CONVERSATION_KEY = "concierge.conversation_id";
  var OLD_SENDER_KEY = "concierge.sender_id"; // before conversation tokens: no longer used
  var LAST_EVENT_KEY = "concierge.last_event_id";
  var STREAM_RETRY_MS = 3000;
  var NOTICES = {
    agent_joined: "A person from our team has joined the conversation.",
    agent_left: "You're back with the assistant."
  };
  var TRANSCRIPT_KEY = "concierge.transcript";
  var OPEN_KEY = "concierge.open";
  var MAX_ENTRIES = 200;
  var MAX_LENGTH = 4000;
  var REQUEST_TIMEOUT_MS = 20000;
  var TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
  var RESTARTED_TEXT = "Sorry, we couldn't continue our earlier conversation, so I've started " +
    "a new one. Your message is on its way.";
  var CONFIG_TIMEOUT_MS = 3000;
  // Used only until /api/widget/config answers (or if it cannot): the company's own texts
  // come from the gateway's settings.
  var DEFAULT_FALLBACK = "Sorry, I'm having trouble right now. Please try again in a minute.";

  var script = document.currentScript || findOwnScript();
  var dataset = (script && script.dataset) || {};
  var origin = resolveOrigin(script, dataset.origin);
  var config = {
    title: dataset.title || "Concierge",
    subtitle: dataset.subtitle || "",
    fallback: dataset.fallback || DEFAULT_FALLBACK
  };

  // Fill what the script tag did not set from GET /api/widget/config; data-* attributes win.
  function loadConfig(done) {
    var finished = false;
    function finish() {
      if (!finished) {
        finished = true;
        done();
      }
    }
    var timer = setTimeout(finish, CONFIG_TIMEOUT_MS);
    fetch(origin + "/api/widget/config", { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (server) {
        if (server && typeof server === "object") {
          ["title", "subtitle", "fallback"].forEach(function (key) {
            if (!dataset[key] && typeof server[key] === "string" && server[key]) {
              config[key] = server[key];
            }
          });
        }
      })
      .catch(function () { /* keep the defaults */ })
      .then(function () {
        clearTimeout(timer);
        finish();
      });
  }

  function findOwnScript() {
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(scripts[i].src || "")) {
        return scripts[i];
      }
    }
    return null;
  }

  function resolveOrigin(tag, override) {
    try {
      if (override) {
        return new URL(override, window.location.href).origin;
      }
      if (tag && tag.src) {
        return new URL(tag.src, window.location.href).origin;
      }
    } catch (error) {
      /* fall through to the page's own origin */
    }
    return window.location.origin;
  }

  // --- storage (private browsing may refuse it: fall back to memory) -------------------------

  var memory = {};

  function store(kind) {
    try {
      var s = window[kind];
      var probe = "concierge.__probe";
      s.setItem(probe, "1");
      s.removeItem(probe);
      return s;
    } catch (error) {
      return null;
    }
  }

  var local = store("localStorage");
  var session = store("sessionStorage");

  function getItem(s, key) {
    try {
      return s ? s.getItem(key) : (memory[key] === undefined ? null : memory[key]);
    } catch (error) {
      return null;
    }
  }

  function setItem(s, key, value) {
    try {
      if (s) {
        s.setItem(key, value);
        return;
      }
    } catch (error) {
      /* quota or privacy settings: keep it in memory */
    }
    memory[key] = value;
  }

  function removeItem(s, key) {
    try {
      if (s) {
        s.removeItem(key);
      }
    } catch (error) {
      /* ignore */
    }
    delete memory[key];
  }

  function conversationToken() {
    var token = getItem(local, TOKEN_KEY);
    return token && TOKEN_RE.test(token) ? token : null;
  }

  function keepConversation(body) {
    if (body && typeof body.token === "string" && TOKEN_RE.test(body.token)) {
      setItem(local, TOKEN_KEY, body.token);
      if (typeof body.conversation_id === "string") {
        setItem(local, CONVERSATION_KEY, body.conversation_id);
      }
    }
  }

  function forgetConversation() {
    removeItem(local, TOKEN_KEY);
    removeItem(local, CONVERSATION_KEY);
    removeItem(local, LAST_EVENT_KEY);
    stopStream();
  }

  // --- live push: GET /api/chat/events (server-sent events read with fetch, so the token
  // goes in the Authorization header; Last-Event-ID resumes after the last event seen) ------

  var stream = { controller: null, timer: null, token: null };

  function stopStream() {
    if (stream.timer) {
      window.clearTimeout(stream.timer);
      stream.timer = null;
    }
    if (stream.controller) {
      stream.controller.abort();
      stream.controller = null;
    }
    stream.token = null;
  }

  function scheduleStream() {
    if (!stream.timer) {
      stream.timer = window.setTimeout(function () {
        stream.timer = null;
        startStream();
      }, STREAM_RETRY_MS);
    }
  }

  function startStream() {
    var token = conversationToken();
    if (!token || stream.controller || typeof AbortController !== "function" ||
        typeof TextDecoder !== "function") {
      return;
    }
    var controller = new AbortController();
    stream.controller = controller;
    stream.token = token;
    var headers = { Accept: "text/event-stream", Authorization: "Bearer " + token };
    var last = getItem(local, LAST_EVENT_KEY);
    if (last && /^[0-9]+$/.test(last)) {
      headers["Last-Event-ID"] = last;
    }
    window.fetch(origin + "/api/chat/events", {
      headers: headers, signal: controller.signal, credentials: "omit", mode: "cors"
    }).then(function (response) {
      if (response.status === 401) {
        return "refused"; // the next message starts over
      }
      if (!response.ok || !response.body) {
        return "retry";
      }
      return readEvents(response.body.getReader()).then(function () { return "retry"; });
    }).catch(function () {
      return controller.signal.aborted ? "stopped" : "retry";
    }).then(function (outcome) {
      if (stream.controller === controller) {
        stream.controller = null;
      }
      if (outcome === "retry" && !controller.signal.aborted) {
        scheduleStream();
      }
    });
  }

  function readEvents(reader) {
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) {
          return;
        }
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        var end = buffer.indexOf("\n\n");
        while (end >= 0) {
          handleEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
        return pump();
      });
    }
    return pump();
  }

  function handleEvent(block) {
    var fields = { event: "message", data: [] };
    block.split("\n").forEach(function (line) {
      if (!line || line.charAt(0) === ":") {
        return;
      }
      var colon = line.indexOf(":");
      var name = colon >= 0 ? line.slice(0, colon) : line;
      var value = colon >= 0 ? line.slice(colon + 1).replace(/^ /, "") : "";
      if (name === "data") {
        fields.data.push(value);
      } else if (name === "event" || name === "id") {
        fields[name] = value;
      }
    });
    if (!fields.data.length) {
      return;
    }
    var data;
    try {
      data = JSON.parse(fields.data.join("\n"));
    } catch (error) {
      return;
    }
    if (fields.id && /^[0-9]+$/.test(fields.id)) {
      var seen = getItem(local, LAST_EVENT_KEY);
      if (seen && Number(seen) >= Number(fields.id)) {
        return; // already shown
      }
      setItem(local, LAST_EVENT_KEY, fields.id);
    }
    if (fields.event === "message") {
      botEntries(data && data.messages, false).forEach(addEntry);
    } else if (NOTICES[fields.event]) {
      addEntry({ role: "bot", text: NOTICES[fields.event], buttons: [], sources: [], custom: {},
                 notice: true });
    }
  }

  function loadTranscript() {
    var raw = getItem(session, TRANSCRIPT_KEY);
    if (!raw) {
      return [];
    }
    try {
      var entries = JSON.parse(raw);
      return Array.isArray(entries) ? entries.filter(isEntry) : [];
    } catch (error) {
      return [];
    }
  }

  function isEntry(entry) {
    return entry && typeof entry === "object" &&
      (entry.role === "user" || entry.role === "bot") && typeof entry.text === "string";
  }

  function saveTranscript() {
    if (transcript.length > MAX_ENTRIES) {
      transcript = transcript.slice(transcript.length - MAX_ENTRIES);
    }
    setItem(session, TRANSCRIPT_KEY, JSON.stringify(transcript));
  }

  // --- DOM helpers -------------------------------------------------------------------------

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) {
      for (var name in attrs) {
        if (Object.prototype.hasOwnProperty.call(attrs, name)) {
          if (name === "className") {
            node.className = attrs[name];
          } else {
            node.setAttribute(name, attrs[name]);
          }
        }
      }
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function icon(pathData) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    svg.appendChild(path);
    return svg;
  }

  var CHAT_ICON = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var THUMB_UP = "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6V3a1.5 1.5 0 0 0-.4-1L13.2 1 6.6 7.6A2 2 0 0 0 6 9v10a2 2 0 0 0 2 2h9a2 2 0 0 0 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";
  var THUMB_DOWN = "M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6V21a1.5 1.5 0 0 0 .4 1l1.1 1 6.6-6.6A2 2 0 0 0 18 15V5a2 2 0 0 0-2-2H7a2 2 0 0 0-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z";

  function sourceHref(location) {
    if (typeof location !== "string" || !location || /^[a-z][a-z0-9+.-]*:/i.test(location) ||
        location.charAt(0) === "/") {
      return null;
    }
    var hash = location.indexOf("#");
    var path = hash >= 0 ? location.slice(0, hash) : location;
    var fragment = hash >= 0 ? location.slice(hash + 1) : "";
    var encoded = path.split("/").map(encodeURIComponent).join("/");
    return origin + "/sources/" + encoded + (fragment ? "#" + encodeURI(fragment) : "");
  }

  // --- state and UI ------------------------------------------------------------------------

  var transcript = loadTranscript();
  var busy = false;
  var ui = {};

  function build() {
    var root = el("div", { id: "concierge-root", className: "concierge-root" });
    root.style.visibility = "hidden"; // until the stylesheet is in

    var launcher = el("button", {
      id: "concierge-launcher",
      type: "button",
      className: "concierge-launcher",
      "aria-label": "Open chat: " + config.title,
      "aria-expanded": "false",
      "aria-controls": "concierge-panel",
      "aria-haspopup": "dialog"
    });
    launcher.appendChild(icon(CHAT_ICON));

    var panel = el("div", {
      id: "concierge-panel",
      className: "concierge-panel",
      role: "dialog",
      "aria-modal": "false",
      "aria-labelledby": "concierge-title",
      "aria-describedby": "concierge-subtitle"
    });
    panel.hidden = true;

    var header = el("div", { className: "concierge-header" });
    var titles = el("div", { className: "concierge-titles" });
    titles.appendChild(el("h2", { id: "concierge-title", className: "concierge-title" }, config.title));
    titles.appendChild(el("p", { id: "concierge-subtitle", className: "concierge-subtitle" }, config.subtitle));
    var close = el("button", {
      id: "concierge-close",
      type: "button",
      className: "concierge-close",
      "aria-label": "Close chat"
    }, "\u00d7");
    header.appendChild(titles);
    header.appendChild(close);

    var log = el("div", {
      id: "concierge-log",
      className: "concierge-log",
      role: "log",
      "aria-live": "polite",
      "aria-label": "Conversation",
      tabindex: "0"
    });

    var typing = el("div", {
      id: "concierge-typing",
      className: "concierge-typing",
      role: "status",
      "aria-label": "The assistant is typing"
    });
    for (var i = 0; i < 3; i++) {
      typing.appendChild(el("span", { className: "concierge-dot", "aria-hidden": "true" }));
    }
    typing.hidden = true;

    var form = el("form", { id: "concierge-form", className: "concierge-form", novalidate: "" });
    var label = el("label", { "for": "concierge-input", className: "concierge-sr-only" }, "Your message");
    var input = el("input", {
      id: "concierge-input",
      className: "concierge-input",
      type: "text",
      autocomplete: "off",
      maxlength: String(MAX_LENGTH),
      placeholder: "Type your question\u2026",
      "aria-label": "Your message"
    });
    var send = el("button", {
      id: "concierge-send",
      className: "concierge-send",
      type: "submit",
      "aria-label": "Send message"
    }, "Send");
    form.appendChild(label);
    form.appendChild(input);
    form.appendChild(send);

    panel.appendChild(header);
    panel.appendChild(log);
    panel.appendChild(typing);
    panel.appendChild(form);
    root.appendChild(panel);
    root.appendChild(launcher);

    ui = { root: root, launcher: launcher, panel: panel, close: close, log: log,
           typing: typing, form: form, input: input, send: send };

    launcher.addEventListener("click", function () {
      if (ui.panel.hidden) {
        open();
      } else {
        closePanel();
      }
    });
    close.addEventListener("click", closePanel);
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape" || event.key === "Esc") {
        event.preventDefault();
        closePanel();
      }
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = input.value;
      if (!text.trim() || busy) {
        return;
      }
      input.value = "";
      sendMessage(text.trim(), null);
    });

    document.body.appendChild(root);
    loadStylesheet(root);

    for (var j = 0; j < transcript.length; j++) {
      log.appendChild(renderEntry(transcript[j]));
    }
    startStream();
    if (getItem(session, OPEN_KEY) === "1") {
      open({ focus: false });
    }
    hookOpeners();
  }

  function loadStylesheet(root) {
    var reveal = function () { root.style.visibility = ""; };
    var href = origin + "/widget.css";
    var existing = document.querySelector('link[data-concierge-css]');
    if (existing) {
      reveal();
      return;
    }
    var link = el("link", { rel: "stylesheet", href: href, "data-concierge-css": "" });
    link.addEventListener("load", reveal);
    link.addEventListener("error", reveal);
    window.setTimeout(reveal, 3000);
    (document.head || document.documentElement).appendChild(link);
  }

  function hookOpeners() {
    var openers = document.querySelectorAll("[data-concierge-open]");
    for (var i = 0; i < openers.length; i++) {
      openers[i].addEventListener("click", function (event) {
        event.preventDefault();
        open();
      });
    }
  }

  function open(options) {
    ui.panel.hidden = false;
    ui.root.classList.add("concierge-open");
    ui.launcher.setAttribute("aria-expanded", "true");
    ui.launcher.setAttribute("aria-label", "Close chat: " + config.title);
    setItem(session, OPEN_KEY, "1");
    scrollToEnd();
    if (!options || options.focus !== false) {
      ui.input.focus();
    }
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.root.classList.remove("concierge-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.setAttribute("aria-label", "Open chat: " + config.title);
    setItem(session, OPEN_KEY, "0");
    ui.launcher.focus();
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function setBusy(value) {
    busy = value;
    ui.typing.hidden = !value;
    ui.send.disabled = value;
    ui.panel.setAttribute("aria-busy", value ? "true" : "false");
    if (value) {
      scrollToEnd();
    }
  }

  function addEntry(entry) {
    transcript.push(entry);
    saveTranscript();
    ui.log.appendChild(renderEntry(entry));
    scrollToEnd();
  }

  function renderEntry(entry) {
    var classes = "concierge-msg " + (entry.role === "user" ? "concierge-user" : "concierge-bot");
    if (entry.error) {
      classes += " concierge-error";
    }
    if (entry.notice) {
      classes += " concierge-notice";
    }
    var item = el("div", { className: classes });
    if (entry.text) {
      item.appendChild(el("p", { className: "concierge-text" }, entry.text));
    }
    var custom = entry.custom && typeof entry.custom === "object" ? entry.custom : {};
    if (typeof custom.image === "string" && /^https?:\/\//i.test(custom.image)) {
      item.appendChild(el("img", { className: "concierge-image", src: custom.image, alt: "" }));
    }
    if (entry.role === "bot") {
      renderButtons(item, entry);
      renderSources(item, entry);
      if (!entry.error && typeof custom.answer_id === "string" && custom.answer_id) {
        item.appendChild(renderFeedback(entry, custom.answer_id));
      }
    }
    return item;
  }

  function renderButtons(item, entry) {
    var buttons = Array.isArray(entry.buttons) ? entry.buttons : [];
    if (!buttons.length) {
      return;
    }
    var group = el("div", { className: "concierge-buttons", role: "group", "aria-label": "Suggested replies" });
    buttons.forEach(function (choice) {
      if (!choice || typeof choice.title !== "string") {
        return;
      }
      var button = el("button", { type: "button", className: "concierge-button" }, choice.title);
      button.disabled = Boolean(entry.buttonsUsed);
      button.addEventListener("click", function () {
        if (busy || entry.buttonsUsed) {
          return;
        }
        entry.buttonsUsed = true;
        saveTranscript();
        var all = group.querySelectorAll("button");
        for (var i = 0; i < all.length; i++) {
          all[i].disabled = true;
        }
        button.classList.add("concierge-chosen");
        var payload = typeof choice.payload === "string" && choice.payload ? choice.payload : choice.title;
        sendMessage(payload, choice.title);
      });
      group.appendChild(button);
    });
    item.appendChild(group);
  }

  function renderSources(item, entry) {
    var sources = Array.isArray(entry.sources) ? entry.sources : [];
    var links = [];
    sources.forEach(function (source) {
      var href = source && sourceHref(source.location);
      if (href) {
        var link = el("a", {
          className: "concierge-source",
          href: href,
          target: "_blank",
          rel: "noopener noreferrer"
        }, source.title || source.location);
        links.push(link);
      }
    });
    if (!links.length) {
      return;
    }
    var box = el("div", { className: "concierge-sources" });
    box.appendChild(el("span", { className: "concierge-sources-label" }, "Sources:"));
    var list = el("ul", { className: "concierge-source-list" });
    links.forEach(function (link) {
      var li = el("li");
      li.appendChild(link);
      list.appendChild(li);
    });
    box.appendChild(list);
    item.appendChild(box);
  }

  function renderFeedback(entry, answerId) {
    var box = el("div", { className: "concierge-feedback" });
    if (entry.feedback === "up" || entry.feedback === "down") {
      box.appendChild(el("span", { className: "concierge-feedback-thanks", role: "status" },
        "Thanks for your feedback!"));
      return box;
    }
    box.appendChild(el("span", { className: "concierge-feedback-label" }, "Was this helpful?"));
    var up = el("button", {
      type: "button",
      className: "concierge-thumb concierge-thumb-up",
      "aria-label": "Yes, this was helpful"
    });
    up.appendChild(icon(THUMB_UP));
    var down = el("button", {
      type: "button",
      className: "concierge-thumb concierge-thumb-down",
      "aria-label": "No, this was not helpful"
    });
    down.appendChild(icon(THUMB_DOWN));
    var note = el("span", { className: "concierge-feedback-note", role: "status" });

    function rate(rating) {
      up.disabled = true;
      down.disabled = true;
      note.textContent = "";
      postJson("/api/feedback", { answer_id: answerId, rating: rating }, conversationToken())
        .then(function (result) {
          if (result.status === 401) {
            note.textContent = "Sorry, this conversation has ended, so feedback can't be saved.";
            return;
          }
          if (!result.ok) {
            throw new Error("feedback failed");
          }
          entry.feedback = rating;
          saveTranscript();
          var thanks = renderFeedback(entry, answerId);
          box.parentNode.replaceChild(thanks, box);
        })
        .catch(function () {
          up.disabled = false;
          down.disabled = false;
          note.textContent = "Sorry, that didn't go through. Please try again.";
        });
    }

    up.addEventListener("click", function () { rate("up"); });
    down.addEventListener("click", function () { rate("down"); });
    box.appendChild(up);
    box.appendChild(down);
    box.appendChild(note);
    return box;
  }

  // --- talking to the gateway ----------------------------------------------------------------

  function postJson(path, body, token) {
    var controller = typeof AbortController === "function" ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, REQUEST_TIMEOUT_MS) : null;
    var headers = { "Content-Type": "application/json" };
    if (token) {
      headers.Authorization = "Bearer " + token;
    }
    return window.fetch(origin + path, {
      method: "POST",
      headers: headers,
      body: JSON.stringify(body),
      signal: controller ? controller.signal : undefined,
      credentials: "omit",
      mode: "cors"
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        return { ok: response.ok, status: response.status, body: data };
      });
    }).finally(function () {
      if (timer) {
        window.clearTimeout(timer);
      }
    });
  }

  function botEntries(messages, isError) {
    var entries = [];
    (Array.isArray(messages) ? messages : []).forEach(function (message) {
      if (!message || typeof message !== "object") {
        return;
      }
      var entry = {
        role: "bot",
        text: typeof message.text === "string" ? message.text : "",
        buttons: Array.isArray(message.buttons) ? message.buttons : [],
        sources: Array.isArray(message.sources) ? message.sources : [],
        custom: message.custom && typeof message.custom === "object" ? message.custom : {},
        error: Boolean(isError)
      };
      if (entry.text || entry.buttons.length || entry.sources.length || entry.custom.image) {
        entries.push(entry);
      }
    });
    return entries;
  }

  function errorEntry(text) {
    return { role: "bot", text: text, buttons: [], sources: [], custom: {}, error: true };
  }

  function clearLog() {
    transcript = [];
    removeItem(session, TRANSCRIPT_KEY);
    while (ui.log.firstChild) {
      ui.log.removeChild(ui.log.firstChild);
    }
  }

  // The gateway refused the stored token: start a clean conversation with this message.
  function startOver(text, shownAs) {
    forgetConversation();
    clearLog();
    addEntry({ role: "bot", text: RESTARTED_TEXT, buttons: [], sources: [], custom: {},
               notice: true });
    addEntry({ role: "user", text: shownAs || text });
    return postJson("/api/chat", { message: text }, null);
  }

  function sendMessage(text, shownAs) {
    if (busy) {
      return;
    }
    addEntry({ role: "user", text: shownAs || text });
    setBusy(true);
    var token = conversationToken();
    postJson("/api/chat", { message: text }, token)
      .then(function (result) {
        if (result.status === 401 && token) {
          return startOver(text, shownAs);
        }
        return result;
      })
      .then(function (result) {
        var body = result.body || {};
        keepConversation(body);
        startStream();
        if (result.ok) {
          botEntries(body.messages, false).forEach(addEntry);
          return;
        }
        var fallback = botEntries(body.messages, true);
        if (fallback.length) {
          fallback.forEach(addEntry);
        } else if (result.status === 422 && typeof body.error === "string") {
          addEntry(errorEntry("Sorry, I couldn't send that: " + body.error + "."));
        } else {
          addEntry(errorEntry(config.fallback));
        }
      })
      .catch(function () {
        addEntry(errorEntry(config.fallback));
      })
      .then(function () {
        setBusy(false);
        if (!ui.panel.hidden) {
          ui.input.focus();
        }
      });
  }

  function reset() {
    forgetConversation();
    clearLog();
  }

  window.ConciergeWidget = {
    open: function () { open(); },
    close: function () { closePanel(); },
    send: function (text) { if (typeof text === "string" && text.trim()) { open(); sendMessage(text.trim(), null); } },
    reset: reset,
    origin: origin
  };

  function start() {
    removeItem(local, OLD_SENDER_KEY);
    loadConfig(build);
  }

  if (document.body) {
    start();
  } else {
    document.addEventListener("DOMContentLoaded", start);
  }
})();
