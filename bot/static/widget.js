/*! Concierge chat widget loader. One tag embeds it: <script src="https://GATEWAY/widget.js" defer>.
 It defines window.Concierge as a queue at once, then loads the versioned bundle, which draws the
 launcher (#concierge-launcher) in a shadow root and runs the queued calls. */
(function(win) {
  "use strict";
  var existing = win.Concierge;
  if (typeof existing === "function" && existing.loaded) {
    return;
  }
  var doc = win.document;
  var script = document.currentScript;
  if (!script) {
    var tags = doc.getElementsByTagName("script");
    for (var i = tags.length - 1; i >= 0 && !script; i--) {
      if (/\/widget\.js(\?|#|$)/.test(tags[i].src || "")) {
        script = tags[i];
      }
    }
  }
  var data = {};
  var names = ["title", "subtitle", "greeting", "fallback", "locale", "origin"];
  for (var n = 0; n < names.length; n++) {
    var value = script && script.getAttribute("data-" + names[n]);
    if (value) {
      data[names[n]] = value;
    }
  }
  var origin;
  try {
    origin = new URL(data.origin || script && script.src || win.location.href, win.location.href).origin;
  } catch (ignored) {
    origin = win.location.origin;
  }
  var queue = existing && Array.isArray(existing.q) ? existing.q : [];
  var api = function() {
    queue.push(arguments);
  };
  api.q = queue;
  api.boot = { origin, data };
  win.Concierge = api;
  var bundle = doc.createElement("script");
  bundle.src = origin + "/api/widget/bundle/concierge.dd0e94687081.js";
  bundle.async = true;
  bundle.crossOrigin = "anonymous";
  bundle.integrity = "sha384-tNagA415msNKTwHPXG5cxJCVtxSDZBNTjhi+5AUN7p2XfuGu67cn6AZTzXtdnYIg";
  (doc.head || doc.documentElement).appendChild(bundle);
})(window);
