// What the widget may load or link to: images only from the gateway's origin or an allowed
// origin; links only https: or the gateway's own origin. Everything else is dropped.

function parse(url, base) {
  try {
    return new URL(url, base);
  } catch {
    return null;
  }
}

/** Return `url` if it is an image the widget may load (gateway origin or allow-list), else null. */
export function safeImageUrl(url, gatewayOrigin, allowedOrigins) {
  if (typeof url !== "string" || !url) {
    return null;
  }
  const parsed = parse(url, gatewayOrigin + "/");
  if (!parsed || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    return null;
  }
  if (parsed.origin === gatewayOrigin) {
    return parsed.href;
  }
  const allowed = Array.isArray(allowedOrigins) ? allowedOrigins : [];
  return parsed.protocol === "https:" && allowed.indexOf(parsed.origin) >= 0 ? parsed.href : null;
}

/** Return `url` if the widget may link to it (https:, or the gateway's own origin), else null. */
export function safeLinkUrl(url, gatewayOrigin) {
  if (typeof url !== "string" || !url) {
    return null;
  }
  const parsed = parse(url, gatewayOrigin + "/");
  if (!parsed) {
    return null;
  }
  if (parsed.origin === gatewayOrigin || parsed.protocol === "https:") {
    return parsed.href;
  }
  return null;
}

/** Return the gateway's page for a cited source location ("docs/x.md#part"), or null. */
export function sourceHref(location, gatewayOrigin) {
  if (typeof location !== "string" || !location || /^[a-z][a-z0-9+.-]*:/i.test(location) ||
      location.charAt(0) === "/" || location.charAt(0) === "\\") {
    return null;
  }
  const hash = location.indexOf("#");
  const path = hash >= 0 ? location.slice(0, hash) : location;
  const fragment = hash >= 0 ? location.slice(hash + 1) : "";
  if (path.split("/").some((part) => part === ".." || part === ".")) {
    return null;
  }
  const encoded = path.split("/").map(encodeURIComponent).join("/");
  return gatewayOrigin + "/sources/" + encoded + (fragment ? "#" + encodeURI(fragment) : "");
}

/** Return the origin of `value` (a URL), or null when it is not an http(s) URL. */
export function originOf(value, base) {
  const parsed = typeof value === "string" && value ? parse(value, base) : null;
  return parsed && (parsed.protocol === "https:" || parsed.protocol === "http:") ? parsed.origin : null;
}
