// The widget's frame: a host element with an open shadow root (so host styles cannot reach
// it and its styles cannot leak), the launcher, and the panel with its log and form.

import { el, icon } from "./dom.js";

export const HOST_TAG = "concierge-widget";

/** Attach the stylesheet: a constructed sheet (no CSP entry needed) or a link as fallback. */
function adoptStyles(doc, shadow, cssText, cssHref, reveal) {
  const win = doc.defaultView;
  if (win && "adoptedStyleSheets" in shadow && typeof win.CSSStyleSheet === "function") {
    try {
      const sheet = new win.CSSStyleSheet();
      sheet.replaceSync(cssText);
      shadow.adoptedStyleSheets = [sheet];
      reveal();
      return;
    } catch {
      /* an older engine: use the stylesheet file */
    }
  }
  const link = el(doc, "link", { rel: "stylesheet", href: cssHref });
  link.addEventListener("load", reveal);
  link.addEventListener("error", reveal);
  setTimeout(reveal, 3000);
  shadow.appendChild(link);
}

/** Build the frame into `doc.body`; return its parts. Texts come from `t` and `texts`. */
export function buildShell(doc, t, texts, cssText, cssHref) {
  const host = el(doc, HOST_TAG, { id: "concierge-root", lang: texts.lang });
  host.style.setProperty("visibility", "hidden", "important");
  const shadow = host.attachShadow({ mode: "open" });

  const launcher = el(doc, "button", {
    id: "concierge-launcher", type: "button", className: "concierge-launcher",
    "aria-label": t("launcher.open", { title: texts.title }), "aria-expanded": "false",
    "aria-controls": "concierge-panel", "aria-haspopup": "dialog"
  });
  launcher.appendChild(icon(doc, "chat"));

  const panel = el(doc, "div", {
    id: "concierge-panel", className: "concierge-panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "concierge-title", "aria-describedby": texts.subtitle ? "concierge-subtitle" : null
  });
  panel.hidden = true;

  // Not a heading: nothing of the widget enters the host page's outline.
  const header = el(doc, "div", { className: "concierge-header" });
  const titles = el(doc, "div", { className: "concierge-titles" });
  const title = el(doc, "div", { id: "concierge-title", className: "concierge-title" }, texts.title);
  const subtitle = el(doc, "div", { id: "concierge-subtitle", className: "concierge-subtitle" }, texts.subtitle);
  subtitle.hidden = !texts.subtitle;
  titles.append(title, subtitle);
  const close = el(doc, "button", {
    id: "concierge-close", type: "button", className: "concierge-close", "aria-label": t("panel.close")
  });
  close.appendChild(icon(doc, "close"));
  header.append(titles, close);

  // Not a live region itself: new messages are announced once, by `announcer`.
  const log = el(doc, "div", {
    id: "concierge-log", className: "concierge-log", role: "log", "aria-live": "off",
    "aria-label": t("log.label"), tabindex: "0"
  });
  const typing = el(doc, "div", { id: "concierge-typing", className: "concierge-typing", "aria-hidden": "true" });
  for (let i = 0; i < 3; i++) {
    typing.appendChild(el(doc, "span", { className: "concierge-dot" }));
  }
  typing.hidden = true;
  const announcer = el(doc, "div", {
    id: "concierge-announcer", className: "concierge-sr-only", role: "status", "aria-live": "polite",
    "aria-atomic": "true"
  });

  const form = el(doc, "form", { id: "concierge-form", className: "concierge-form", novalidate: true });
  const label = el(doc, "label", { for: "concierge-input", className: "concierge-sr-only" }, t("input.label"));
  const input = el(doc, "input", {
    id: "concierge-input", className: "concierge-input", type: "text", autocomplete: "off",
    maxlength: "4000", placeholder: t("input.placeholder"), enterkeyhint: "send"
  });
  const send = el(doc, "button", { id: "concierge-send", className: "concierge-send", type: "submit" }, t("send"));
  form.append(label, input, send);

  const footer = el(doc, "div", { className: "concierge-footer" });
  const stop = el(doc, "button", { id: "concierge-stop", type: "button", className: "concierge-stop" }, t("footer.stop"));
  footer.appendChild(stop);

  panel.append(header, log, typing, form, footer, announcer);
  shadow.append(panel, launcher);
  adoptStyles(doc, shadow, cssText, cssHref, () => host.style.removeProperty("visibility"));
  doc.body.appendChild(host);
  return { host, shadow, launcher, panel, title, subtitle, close, log, typing, announcer, form, input, send, stop };
}

/**
 * Keep the full-screen panel above the on-screen keyboard: on phones the visual viewport
 * shrinks when the keyboard opens, and the panel follows its height and offset.
 */
export function followVisualViewport(win, host) {
  const viewport = win.visualViewport;
  if (!viewport) {
    return () => {};
  }
  const update = () => {
    host.style.setProperty("--concierge-vv-height", viewport.height + "px");
    host.style.setProperty("--concierge-vv-top", viewport.offsetTop + "px");
  };
  update();
  viewport.addEventListener("resize", update);
  viewport.addEventListener("scroll", update);
  return () => {
    viewport.removeEventListener("resize", update);
    viewport.removeEventListener("scroll", update);
  };
}
