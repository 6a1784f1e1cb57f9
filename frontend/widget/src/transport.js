// Talking to the gateway: JSON posts with the conversation token, the widget's config, and
// the live-push stream (GET /api/chat/events) resumed with Last-Event-ID.

import { eventSplitter } from "./sse.js";

export const REQUEST_TIMEOUT_MS = 20000;
export const CONFIG_TIMEOUT_MS = 3000;
export const STREAM_RETRY_MS = 3000;

/** POST `body` as JSON to `origin + path`; resolve {ok, status, body} (body null if not JSON). */
export function postJson(origin, path, body, token, fetchImpl = globalThis.fetch) {
  const controller = typeof AbortController === "function" ? new AbortController() : null;
  const timer = controller ? setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS) : null;
  const headers = { "Content-Type": "application/json" };
  if (token) {
    headers.Authorization = "Bearer " + token;
  }
  return fetchImpl(origin + path, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
    signal: controller ? controller.signal : undefined,
    credentials: "omit",
    mode: "cors"
  }).then((response) => response.json().catch(() => null)
    .then((data) => ({ ok: response.ok, status: response.status, body: data })))
    .finally(() => {
      if (timer) {
        clearTimeout(timer);
      }
    });
}

/** GET /api/widget/config; resolve the object, or null on any failure or after the timeout. */
export function fetchConfig(origin, fetchImpl = globalThis.fetch) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), CONFIG_TIMEOUT_MS);
    fetchImpl(origin + "/api/widget/config", {
      headers: { Accept: "application/json" }, credentials: "omit", mode: "cors"
    })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => resolve(data && typeof data === "object" ? data : null))
      .catch(() => resolve(null))
      .finally(() => clearTimeout(timer));
  });
}

/**
 * The live-push stream. `conversation` gives the token and the last event id and records
 * seen ids; `onEvent({event, data})` gets each new event once.
 */
export function createStream(origin, conversation, onEvent, fetchImpl = globalThis.fetch) {
  let controller = null;
  let timer = null;

  function stop() {
    if (timer) {
      clearTimeout(timer);
      timer = null;
    }
    if (controller) {
      controller.abort();
      controller = null;
    }
  }

  function schedule() {
    if (!timer) {
      timer = setTimeout(() => {
        timer = null;
        start();
      }, STREAM_RETRY_MS);
    }
  }

  function deliver(parsed) {
    if (conversation.markEvent(parsed.id)) {
      onEvent(parsed);
    }
  }

  function read(reader) {
    const decoder = new TextDecoder();
    const feed = eventSplitter(deliver);
    function pump() {
      return reader.read().then((chunk) => {
        if (chunk.done) {
          return undefined;
        }
        feed(decoder.decode(chunk.value, { stream: true }));
        return pump();
      });
    }
    return pump();
  }

  function start() {
    const token = conversation.token();
    if (!token || controller || typeof AbortController !== "function" ||
        typeof TextDecoder !== "function") {
      return;
    }
    const own = new AbortController();
    controller = own;
    const headers = { Accept: "text/event-stream", Authorization: "Bearer " + token };
    const last = conversation.lastEventId();
    if (last) {
      headers["Last-Event-ID"] = last;
    }
    fetchImpl(origin + "/api/chat/events", {
      headers, signal: own.signal, credentials: "omit", mode: "cors"
    }).then((response) => {
      if (response.status === 401) {
        return "refused"; // the next message starts over
      }
      if (!response.ok || !response.body) {
        return "retry";
      }
      return read(response.body.getReader()).then(() => "retry");
    }).catch(() => (own.signal.aborted ? "stopped" : "retry"))
      .then((outcome) => {
        if (controller === own) {
          controller = null;
        }
        if (outcome === "retry" && !own.signal.aborted) {
          schedule();
        }
      });
  }

  return { start, stop };
}
