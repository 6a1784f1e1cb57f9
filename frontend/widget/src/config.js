// The widget's texts and options: the gateway's /api/widget/config, overridden by data-*.

import { originOf } from "./safety.js";

export const OVERRIDABLE = ["title", "subtitle", "greeting", "fallback", "locale"];

/**
 * Merge `server` (the config endpoint's answer, or null) with the script tag's `dataset`
 * (data-* attributes win) and `t`-less defaults; return {title, subtitle, greeting,
 * fallback, supportEmail, locale, imageOrigins}.
 */
export function mergeConfig(server, dataset) {
  const source = server && typeof server === "object" ? server : {};
  const data = dataset || {};
  const pick = (key, serverKey) => {
    if (typeof data[key] === "string" && data[key].trim()) {
      return data[key].trim();
    }
    const value = source[serverKey || key];
    return typeof value === "string" ? value : "";
  };
  const imageOrigins = (Array.isArray(source.image_origins) ? source.image_origins : [])
    .map((value) => originOf(value))
    .filter(Boolean);
  return {
    title: pick("title"),
    subtitle: pick("subtitle"),
    greeting: pick("greeting"),
    fallback: pick("fallback"),
    supportEmail: typeof source.support_email === "string" ? source.support_email : "",
    locale: pick("locale") || "en",
    imageOrigins
  };
}

/** The gateway's origin: data-origin, else the script's own src, else the page's origin. */
export function resolveOrigin(src, override, pageHref) {
  return originOf(override, pageHref) || originOf(src, pageHref) || originOf(pageHref) || "";
}
