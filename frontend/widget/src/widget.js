// The widget's controller: state, rendering and transport wired together, and the commands
// behind window.Concierge.

import { createCommand, createEmitter, identity } from "./api.js";
import { mergeConfig } from "./config.js";
import { translator } from "./i18n.js";
import { renderEntry } from "./render.js";
import { buildShell, followVisualViewport } from "./shell.js";
import { conversationStore, createStore, KEYS } from "./storage.js";
import { botEntries, createTranscript, entryEvents, ownEntry } from "./state.js";
import { createStream, postJson } from "./transport.js";

const NOTICE_EVENTS = { agent_joined: "notice.agent_joined", agent_left: "notice.agent_left" };

/** Start the widget in `win` for the gateway at `origin`; return its command function. */
export function startWidget(win, origin, server, dataset, styles) {
  const doc = win.document;
  const config = mergeConfig(server, dataset);
  const t = translator(config.locale);
  const texts = {
    title: config.title || t("panel.title"),
    subtitle: config.subtitle,
    greeting: config.greeting || t("greeting"),
    fallback: config.fallback ||
      (config.supportEmail ? t("error.fallback_email", { email: config.supportEmail }) : t("error.fallback")),
    lang: config.locale
  };
  const local = createStore(() => win.localStorage);
  const session = createStore(() => win.sessionStorage);
  const conversation = conversationStore(local);
  const transcript = createTranscript(session);
  const events = createEmitter();
  let person = null;
  let busy = false;

  local.remove(KEYS.oldSender);
  const ui = buildShell(doc, t, texts, styles.css, origin + "/widget.css");
  const stopViewport = followVisualViewport(win, ui.host);

  const announce = (text) => {
    ui.announcer.textContent = "";
    // a fresh text node after a tick is announced once, even when it repeats the last one
    setTimeout(() => { ui.announcer.textContent = text; }, 50);
  };

  const ctx = {
    doc, t, origin, imageOrigins: config.imageOrigins, announce,
    isBusy: () => busy,
    save: () => transcript.save(),
    send: (text, shownAs) => sendMessage(text, shownAs),
    rate: (answerId, rating) => postJson(origin, "/api/feedback", { answer_id: answerId, rating }, conversation.token())
      .then((result) => (result.status === 401 ? "ended" : result.ok ? "ok" : "failed"))
      .catch(() => "failed")
  };

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function showGreeting() {
    if (!transcript.all().length && texts.greeting) {
      ui.log.appendChild(renderEntry(ctx, { role: "bot", text: texts.greeting, greeting: true }));
    }
  }

  function addEntry(entry, quiet) {
    const greeting = ui.log.querySelector(".concierge-greeting");
    if (greeting && entry.role === "user") {
      greeting.remove();
    }
    transcript.add(entry);
    ui.log.appendChild(renderEntry(ctx, entry));
    scrollToEnd();
    if (!quiet && entry.role === "bot" && entry.text) {
      announce(t("announce.bot", { text: entry.text }));
    }
    for (const name of entryEvents(entry)) {
      events.emit(name, name === "answer" ? { text: entry.text } : { kind: entry.custom.kind });
    }
  }

  function clearLog() {
    transcript.clear();
    ui.log.replaceChildren();
  }

  const stream = createStream(origin, conversation, (event) => {
    if (event.event === "message") {
      for (const entry of botEntries(event.data && event.data.messages, false)) {
        addEntry(entry);
      }
    } else if (NOTICE_EVENTS[event.event]) {
      addEntry(ownEntry(t(NOTICE_EVENTS[event.event]), "notice"));
      events.emit("handoff", { state: event.event === "agent_joined" ? "joined" : "returned" });
    }
  });

  function setBusy(value) {
    busy = value;
    ui.typing.hidden = !value;
    ui.send.disabled = value;
    ui.panel.setAttribute("aria-busy", value ? "true" : "false");
    if (value) {
      announce(t("announce.typing"));
      scrollToEnd();
    }
  }

  function isOpen() {
    return !ui.panel.hidden;
  }

  function open(options) {
    if (!isOpen()) {
      ui.panel.hidden = false;
      ui.host.classList.add("concierge-open");
      ui.launcher.setAttribute("aria-expanded", "true");
      ui.launcher.setAttribute("aria-label", t("launcher.close", { title: texts.title }));
      session.set(KEYS.open, "1");
      events.emit("open", {});
    }
    scrollToEnd();
    if (!options || options.focus !== false) {
      ui.input.focus();
    }
  }

  function close(options) {
    if (!isOpen()) {
      return;
    }
    ui.panel.hidden = true;
    ui.host.classList.remove("concierge-open");
    ui.launcher.setAttribute("aria-expanded", "false");
    ui.launcher.setAttribute("aria-label", t("launcher.open", { title: texts.title }));
    session.set(KEYS.open, "0");
    events.emit("close", {});
    if (!options || options.focus !== false) {
      ui.launcher.focus();
    }
  }

  function body(text) {
    const message = { message: text };
    if (person) {
      message.metadata = { customer: person };
    }
    return message;
  }

  function sendMessage(text, shownAs) {
    if (busy) {
      return;
    }
    addEntry({ role: "user", text: shownAs || text });
    events.emit("message", { text: shownAs || text });
    setBusy(true);
    const token = conversation.token();
    postJson(origin, "/api/chat", body(text), token)
      .then((result) => {
        if (result.status !== 401 || !token) {
          return result;
        }
        // The gateway refused the stored token: start a clean conversation with this message.
        conversation.forget();
        stream.stop();
        clearLog();
        addEntry(ownEntry(t("conversation.restarted"), "notice"));
        addEntry({ role: "user", text: shownAs || text }, true);
        return postJson(origin, "/api/chat", body(text), null);
      })
      .then((result) => {
        const reply = result.body || {};
        conversation.keep(reply);
        stream.start();
        if (result.ok) {
          botEntries(reply.messages, false).forEach((entry) => addEntry(entry));
          return;
        }
        const fallback = botEntries(reply.messages, true);
        if (fallback.length) {
          fallback.forEach((entry) => addEntry(entry));
        } else if (result.status === 422 && typeof reply.error === "string") {
          addEntry(ownEntry(t("error.invalid", { reason: reply.error }), "error"));
        } else {
          addEntry(ownEntry(texts.fallback, "error"));
        }
      })
      .catch(() => addEntry(ownEntry(texts.fallback, "error")))
      .then(() => {
        setBusy(false);
        if (isOpen()) {
          ui.input.focus();
        }
      });
  }

  function reset() {
    conversation.forget();
    stream.stop();
    clearLog();
    showGreeting();
  }

  // --- wiring ------------------------------------------------------------------------------
  ui.launcher.addEventListener("click", () => (isOpen() ? close() : open()));
  ui.close.addEventListener("click", () => close());
  ui.panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape" || event.key === "Esc") {
      event.preventDefault();
      close();
    }
  });
  ui.form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (!text || busy) {
      return;
    }
    ui.input.value = "";
    sendMessage(text, null);
  });
  ui.stop.addEventListener("click", () => sendMessage(t("footer.stop_message"), null));
  const openers = [];
  for (const opener of doc.querySelectorAll("[data-concierge-open]")) {
    const handler = (event) => {
      event.preventDefault();
      open();
    };
    opener.addEventListener("click", handler);
    openers.push([opener, handler]);
  }

  for (const entry of transcript.all()) {
    ui.log.appendChild(renderEntry(ctx, entry));
  }
  showGreeting();
  stream.start();
  if (session.get(KEYS.open) === "1") {
    open({ focus: false });
  }

  function shutdown() {
    stream.stop();
    stopViewport();
    for (const [opener, handler] of openers) {
      opener.removeEventListener("click", handler);
    }
    ui.host.remove();
    events.clear();
    delete win.ConciergeWidget;
    win.Concierge = undefined;
  }

  const command = createCommand({
    open: () => open(),
    close: () => close(),
    toggle: () => (isOpen() ? close() : open()),
    send: (text) => {
      if (typeof text === "string" && text.trim()) {
        open();
        sendMessage(text.trim().slice(0, 4000), null);
      }
    },
    identify: (value) => {
      person = identity(value);
    },
    on: (name, fn) => events.on(name, fn),
    off: (name, fn) => events.off(name, fn),
    reset,
    shutdown
  });
  command.loaded = true;
  command.origin = origin;
  win.ConciergeWidget = {
    open: () => command("open"), close: () => command("close"),
    send: (text) => command("send", text), reset: () => command("reset"), origin
  };
  return { command, ready: () => events.emit("ready", { origin }) };
}
