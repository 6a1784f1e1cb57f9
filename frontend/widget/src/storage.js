// localStorage / sessionStorage with an in-memory fallback (private modes may refuse them).

export const KEYS = {
  token: "concierge.token",
  conversation: "concierge.conversation_id",
  oldSender: "concierge.sender_id",
  lastEvent: "concierge.last_event_id",
  transcript: "concierge.transcript",
  open: "concierge.open"
};

const TOKEN_RE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

function probe(storage) {
  try {
    storage.setItem("concierge.__probe", "1");
    storage.removeItem("concierge.__probe");
    return storage;
  } catch {
    return null;
  }
}

/** One key-value store over a Web Storage object, falling back to memory when refused. */
export function createStore(getStorage) {
  let backing = null;
  try {
    backing = probe(getStorage());
  } catch {
    backing = null;
  }
  const memory = new Map();
  return {
    get(key) {
      try {
        if (backing) {
          return backing.getItem(key);
        }
      } catch {
        /* fall back to memory */
      }
      return memory.has(key) ? memory.get(key) : null;
    },
    set(key, value) {
      try {
        if (backing) {
          backing.setItem(key, value);
          return;
        }
      } catch {
        /* quota or privacy settings: keep it in memory */
      }
      memory.set(key, value);
    },
    remove(key) {
      try {
        if (backing) {
          backing.removeItem(key);
        }
      } catch {
        /* ignore */
      }
      memory.delete(key);
    }
  };
}

/** The conversation's token and id (localStorage) with the shape checks the widget relies on. */
export function conversationStore(local) {
  return {
    token() {
      const token = local.get(KEYS.token);
      return token && TOKEN_RE.test(token) ? token : null;
    },
    keep(body) {
      if (body && typeof body.token === "string" && TOKEN_RE.test(body.token)) {
        local.set(KEYS.token, body.token);
        if (typeof body.conversation_id === "string") {
          local.set(KEYS.conversation, body.conversation_id);
        }
        return true;
      }
      return false;
    },
    forget() {
      local.remove(KEYS.token);
      local.remove(KEYS.conversation);
      local.remove(KEYS.lastEvent);
    },
    lastEventId() {
      const last = local.get(KEYS.lastEvent);
      return last && /^[0-9]+$/.test(last) ? last : null;
    },
    /** Record `id` as seen; false when it (or a later one) was already seen. */
    markEvent(id) {
      if (typeof id !== "string" || !/^[0-9]+$/.test(id)) {
        return true;
      }
      const seen = local.get(KEYS.lastEvent);
      if (seen && /^[0-9]+$/.test(seen) && Number(seen) >= Number(id)) {
        return false;
      }
      local.set(KEYS.lastEvent, id);
      return true;
    }
  };
}
