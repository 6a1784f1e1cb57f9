// The bundle's entry: take over the loader's queue, fetch the company's texts, start.

import { drainQueue } from "./api.js";
import { resolveOrigin } from "./config.js";
import { fetchConfig } from "./transport.js";
import { startWidget } from "./widget.js";
import css from "./styles.css";

function boot(win) {
  const stub = win.Concierge;
  if (typeof stub === "function" && stub.loaded) {
    return; // loaded twice: keep the first instance
  }
  const boot = (stub && stub.boot) || {};
  const queue = stub && Array.isArray(stub.q) ? stub.q : [];
  const origin = boot.origin || resolveOrigin(null, null, win.location.href);
  const dataset = boot.data || {};
  fetchConfig(origin).then((server) => {
    const start = () => {
      const widget = startWidget(win, origin, server, dataset, { css });
      win.Concierge = widget.command;
      drainQueue(queue, widget.command);
      if (win.performance && typeof win.performance.mark === "function") {
        win.performance.mark("concierge:ready");
      }
      widget.ready();
    };
    if (win.document.body) {
      start();
    } else {
      win.document.addEventListener("DOMContentLoaded", start, { once: true });
    }
  });
}

boot(window);
