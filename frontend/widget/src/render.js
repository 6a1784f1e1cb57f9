// One conversation entry as DOM: text, image, suggested replies, sources and feedback.
// `ctx` carries the document, translator, origin, image allow-list and the actions.

import { el, icon } from "./dom.js";
import { safeImageUrl, safeLinkUrl, sourceHref } from "./safety.js";

let counter = 0;

function speakerKey(entry) {
  if (entry.notice) {
    return "speaker.notice";
  }
  return entry.role === "user" ? "speaker.user" : "speaker.bot";
}

/** Render `entry` (see state.js) as a message element. */
export function renderEntry(ctx, entry) {
  const { doc, t } = ctx;
  let classes = "concierge-msg " + (entry.role === "user" ? "concierge-user" : "concierge-bot");
  if (entry.error) {
    classes += " concierge-error";
  }
  if (entry.notice) {
    classes += " concierge-notice";
  }
  if (entry.greeting) {
    classes = "concierge-msg concierge-greeting";
  }
  // The speaker is read by assistive technology from data-speaker (a visually hidden
  // ::before), so the message's own text stays exactly the message.
  const item = el(doc, "div", { className: classes, "data-speaker": t(speakerKey(entry)) });
  if (entry.text) {
    item.appendChild(el(doc, "p", { className: "concierge-text" }, entry.text));
  }
  const custom = entry.custom && typeof entry.custom === "object" ? entry.custom : {};
  const image = safeImageUrl(custom.image, ctx.origin, ctx.imageOrigins);
  if (image) {
    item.appendChild(el(doc, "img", { className: "concierge-image", src: image, alt: t("image.alt") }));
  }
  const quote = custom.kind === "quote" ? safeLinkUrl(custom.url, ctx.origin) : null;
  if (quote) {
    const number = typeof custom.number === "string" ? custom.number : "";
    item.appendChild(el(doc, "a", {
      className: "concierge-quote-link", href: quote, target: "_blank", rel: "noopener noreferrer"
    }, t("quote.open", { number })));
  }
  if (entry.role === "bot" && !entry.greeting) {
    renderButtons(ctx, item, entry);
    renderSources(ctx, item, entry);
    if (!entry.error && typeof custom.answer_id === "string" && custom.answer_id) {
      item.appendChild(renderFeedback(ctx, entry, custom.answer_id));
    }
  }
  return item;
}

function renderButtons(ctx, item, entry) {
  const { doc, t } = ctx;
  const buttons = Array.isArray(entry.buttons) ? entry.buttons : [];
  if (!buttons.length) {
    return;
  }
  const group = el(doc, "div", { className: "concierge-buttons", role: "group", "aria-label": t("buttons.label") });
  for (const choice of buttons) {
    if (!choice || typeof choice.title !== "string") {
      continue;
    }
    const button = el(doc, "button", { type: "button", className: "concierge-button" }, choice.title);
    button.disabled = Boolean(entry.buttonsUsed);
    if (entry.buttonsUsed && entry.chosen === choice.title) {
      button.classList.add("concierge-chosen");
    }
    button.addEventListener("click", () => {
      if (ctx.isBusy() || entry.buttonsUsed) {
        return;
      }
      entry.buttonsUsed = true;
      entry.chosen = choice.title;
      ctx.save();
      for (const other of group.querySelectorAll("button")) {
        other.disabled = true;
      }
      button.classList.add("concierge-chosen");
      const payload = typeof choice.payload === "string" && choice.payload ? choice.payload : choice.title;
      ctx.send(payload, choice.title);
    });
    group.appendChild(button);
  }
  item.appendChild(group);
}

function renderSources(ctx, item, entry) {
  const { doc, t } = ctx;
  const links = [];
  for (const source of Array.isArray(entry.sources) ? entry.sources : []) {
    const href = source && sourceHref(source.location, ctx.origin);
    if (href) {
      links.push(el(doc, "a", {
        className: "concierge-source", href, target: "_blank", rel: "noopener noreferrer"
      }, typeof source.title === "string" && source.title ? source.title : source.location));
    }
  }
  if (!links.length) {
    return;
  }
  counter += 1;
  const labelId = "concierge-sources-" + counter;
  const box = el(doc, "div", { className: "concierge-sources" });
  box.appendChild(el(doc, "span", { className: "concierge-sources-label", id: labelId }, t("sources.label")));
  const list = el(doc, "ul", { className: "concierge-source-list", "aria-labelledby": labelId });
  for (const link of links) {
    const li = el(doc, "li");
    li.appendChild(link);
    list.appendChild(li);
  }
  box.appendChild(list);
  item.appendChild(box);
}

function renderFeedback(ctx, entry, answerId) {
  const { doc, t } = ctx;
  const box = el(doc, "div", { className: "concierge-feedback" });
  if (entry.feedback === "up" || entry.feedback === "down") {
    box.appendChild(el(doc, "span", { className: "concierge-feedback-thanks" }, t("feedback.thanks")));
    return box;
  }
  counter += 1;
  const labelId = "concierge-feedback-" + counter;
  box.setAttribute("role", "group");
  box.setAttribute("aria-labelledby", labelId);
  box.appendChild(el(doc, "span", { className: "concierge-feedback-label", id: labelId }, t("feedback.label")));
  const up = el(doc, "button", { type: "button", className: "concierge-thumb concierge-thumb-up", "aria-label": t("feedback.up") });
  up.appendChild(icon(doc, "up"));
  const down = el(doc, "button", { type: "button", className: "concierge-thumb concierge-thumb-down", "aria-label": t("feedback.down") });
  down.appendChild(icon(doc, "down"));
  const note = el(doc, "span", { className: "concierge-feedback-note" });

  function rate(rating) {
    up.disabled = true;
    down.disabled = true;
    note.textContent = "";
    ctx.rate(answerId, rating).then((outcome) => {
      if (outcome === "ok") {
        entry.feedback = rating;
        ctx.save();
        const thanks = renderFeedback(ctx, entry, answerId);
        thanks.setAttribute("tabindex", "-1");
        box.replaceWith(thanks);
        thanks.focus(); // the pressed button is gone: keep the keyboard where it was
        ctx.announce(t("feedback.thanks"));
        return;
      }
      if (outcome === "ended") {
        note.textContent = t("feedback.ended");
      } else {
        up.disabled = false;
        down.disabled = false;
        note.textContent = t("feedback.failed");
      }
      ctx.announce(note.textContent);
    });
  }

  up.addEventListener("click", () => rate("up"));
  down.addEventListener("click", () => rate("down"));
  box.appendChild(up);
  box.appendChild(down);
  box.appendChild(note);
  return box;
}
