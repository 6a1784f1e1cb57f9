// The host page's API: window.Concierge(command, ...args), queued until the bundle runs.

export const EVENTS = ["ready", "open", "close", "message", "answer", "lead", "handoff"];

/** Listeners per event name; a throwing listener never breaks the widget. */
export function createEmitter() {
  const listeners = new Map();
  return {
    on(name, fn) {
      if (EVENTS.indexOf(name) < 0 || typeof fn !== "function") {
        return false;
      }
      if (!listeners.has(name)) {
        listeners.set(name, []);
      }
      listeners.get(name).push(fn);
      return true;
    },
    off(name, fn) {
      const list = listeners.get(name) || [];
      const index = list.indexOf(fn);
      if (index >= 0) {
        list.splice(index, 1);
      }
    },
    emit(name, detail) {
      for (const fn of (listeners.get(name) || []).slice()) {
        try {
          fn(detail);
        } catch (error) {
          if (typeof console !== "undefined") {
            console.error("Concierge: an event listener failed", error);
          }
        }
      }
    },
    clear() {
      listeners.clear();
    }
  };
}

/**
 * Return the command function that replaces the loader's queue. `commands` maps names to
 * handlers; unknown commands and bad arguments are reported on the console, never thrown.
 */
export function createCommand(commands) {
  return function Concierge(name, ...args) {
    const handler = typeof name === "string" && Object.prototype.hasOwnProperty.call(commands, name)
      ? commands[name] : null;
    if (!handler) {
      if (typeof console !== "undefined") {
        console.warn("Concierge: unknown command", name);
      }
      return undefined;
    }
    try {
      return handler(...args);
    } catch (error) {
      if (typeof console !== "undefined") {
        console.error("Concierge: command failed", name, error);
      }
      return undefined;
    }
  };
}

/** Run every queued call (arrays or `arguments` objects) through `command`, in order. */
export function drainQueue(queue, command) {
  const calls = Array.isArray(queue) ? queue.splice(0, queue.length) : [];
  for (const call of calls) {
    if (call && typeof call.length === "number") {
      command(...Array.prototype.slice.call(call));
    }
  }
}

/** Validate `identify`'s argument: a plain object with an optional email and name. */
export function identity(value) {
  if (!value || typeof value !== "object") {
    return null;
  }
  const out = {};
  if (typeof value.email === "string" && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value.email.trim()) &&
      value.email.length <= 254) {
    out.email = value.email.trim();
  }
  if (typeof value.name === "string" && value.name.trim() && value.name.length <= 200) {
    out.name = value.name.trim();
  }
  return out.email || out.name ? out : null;
}
