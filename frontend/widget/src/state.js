// The visible conversation: entries built from the gateway's messages, kept in sessionStorage.

import { KEYS } from "./storage.js";

export const MAX_ENTRIES = 200;

function isEntry(entry) {
  return Boolean(entry) && typeof entry === "object" &&
    (entry.role === "user" || entry.role === "bot") && typeof entry.text === "string";
}

/** Return the bot entries of a reply's `messages` (anything malformed is dropped). */
export function botEntries(messages, isError) {
  const entries = [];
  for (const message of Array.isArray(messages) ? messages : []) {
    if (!message || typeof message !== "object") {
      continue;
    }
    const custom = message.custom && typeof message.custom === "object" && !Array.isArray(message.custom)
      ? message.custom : {};
    const entry = {
      role: "bot",
      text: typeof message.text === "string" ? message.text : "",
      buttons: (Array.isArray(message.buttons) ? message.buttons : [])
        .filter((b) => b && typeof b.title === "string" && b.title.trim()),
      sources: (Array.isArray(message.sources) ? message.sources : [])
        .filter((s) => s && typeof s === "object"),
      custom,
      error: Boolean(isError)
    };
    if (entry.text || entry.buttons.length || entry.sources.length || typeof custom.image === "string") {
      entries.push(entry);
    }
  }
  return entries;
}

/** A bot entry of the widget's own (an error or a notice). */
export function ownEntry(text, kind) {
  return { role: "bot", text, buttons: [], sources: [], custom: {}, error: kind === "error",
    notice: kind === "notice" };
}

/** The transcript: load, append, clear, persisted in `session` (last MAX_ENTRIES). */
export function createTranscript(session) {
  let entries = [];
  const raw = session.get(KEYS.transcript);
  if (raw) {
    try {
      const parsed = JSON.parse(raw);
      entries = Array.isArray(parsed) ? parsed.filter(isEntry) : [];
    } catch {
      entries = [];
    }
  }
  function save() {
    if (entries.length > MAX_ENTRIES) {
      entries = entries.slice(entries.length - MAX_ENTRIES);
    }
    session.set(KEYS.transcript, JSON.stringify(entries));
  }
  return {
    all: () => entries.slice(),
    add(entry) {
      entries.push(entry);
      save();
    },
    save,
    clear() {
      entries = [];
      session.remove(KEYS.transcript);
    }
  };
}

/** The host-analytics event an entry stands for ("answer", "lead", "handoff"), if any. */
export function entryEvents(entry) {
  const kind = entry && entry.custom && typeof entry.custom.kind === "string" ? entry.custom.kind : "";
  const events = [];
  if (entry && entry.role === "bot" && !entry.error && !entry.notice) {
    events.push("answer");
  }
  if (kind === "lead_captured" || kind === "lead") {
    events.push("lead");
  }
  if (kind === "handoff" || kind === "handoff_requested" || kind === "handoff_unavailable") {
    events.push("handoff");
  }
  return events;
}
