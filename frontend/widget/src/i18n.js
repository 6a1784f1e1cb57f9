// The widget's own texts, by translation key. English is complete; every other locale falls
// back to English key by key. {name} placeholders are filled by t().

export const MESSAGES = {
  en: {
    "launcher.open": "Open chat: {title}",
    "launcher.close": "Close chat: {title}",
    "panel.close": "Close chat",
    "panel.title": "Concierge",
    "log.label": "Conversation",
    "speaker.user": "You said:",
    "speaker.bot": "Assistant said:",
    "speaker.notice": "Notice:",
    "announce.bot": "Assistant: {text}",
    "announce.typing": "The assistant is typing\u2026",
    "input.label": "Your message",
    "input.placeholder": "Type your question\u2026",
    "send": "Send",
    "buttons.label": "Suggested replies",
    "sources.label": "Sources",
    "feedback.label": "Was this helpful?",
    "feedback.up": "Yes, this was helpful",
    "feedback.down": "No, this was not helpful",
    "feedback.thanks": "Thanks for your feedback!",
    "feedback.ended": "Sorry, this conversation has ended, so feedback can't be saved.",
    "feedback.failed": "Sorry, that didn't go through. Please try again.",
    "error.fallback": "Sorry, I'm having trouble right now. Please try again in a minute.",
    "error.fallback_email": "Sorry, I'm having trouble right now. Please try again in a minute, or email {email}.",
    "error.invalid": "Sorry, I couldn't send that: {reason}.",
    "conversation.restarted": "Sorry, we couldn't continue our earlier conversation, so I've started a new one. Your message is on its way.",
    "notice.agent_joined": "A person from our team has joined the conversation.",
    "notice.agent_left": "You're back with the assistant.",
    "greeting": "Hi! Ask me about products, orders, shipping and returns.",
    "footer.stop": "Stop contacting me",
    "footer.stop_message": "stop contacting me",
    "image.alt": "Image from the assistant",
    "quote.open": "Open quote {number}"
  },
  "zh-CN": {
    "launcher.open": "\u6253\u5f00\u804a\u5929\uff1a{title}",
    "launcher.close": "\u5173\u95ed\u804a\u5929\uff1a{title}",
    "panel.close": "\u5173\u95ed\u804a\u5929",
    "panel.title": "Concierge",
    "log.label": "\u5bf9\u8bdd",
    "speaker.user": "\u4f60\u8bf4\uff1a",
    "speaker.bot": "\u52a9\u624b\u8bf4\uff1a",
    "speaker.notice": "\u63d0\u793a\uff1a",
    "announce.bot": "\u52a9\u624b\uff1a{text}",
    "announce.typing": "\u52a9\u624b\u6b63\u5728\u8f93\u5165\u2026",
    "input.label": "\u4f60\u7684\u6d88\u606f",
    "input.placeholder": "\u8f93\u5165\u4f60\u7684\u95ee\u9898\u2026",
    "send": "\u53d1\u9001",
    "buttons.label": "\u5efa\u8bae\u7684\u56de\u590d",
    "sources.label": "\u6765\u6e90",
    "feedback.label": "\u8fd9\u4e2a\u56de\u7b54\u6709\u5e2e\u52a9\u5417\uff1f",
    "feedback.up": "\u662f\u7684\uff0c\u6709\u5e2e\u52a9",
    "feedback.down": "\u4e0d\uff0c\u6ca1\u6709\u5e2e\u52a9",
    "feedback.thanks": "\u611f\u8c22\u4f60\u7684\u53cd\u9988\uff01",
    "feedback.ended": "\u62b1\u6b49\uff0c\u6b64\u5bf9\u8bdd\u5df2\u7ed3\u675f\uff0c\u65e0\u6cd5\u4fdd\u5b58\u53cd\u9988\u3002",
    "feedback.failed": "\u62b1\u6b49\uff0c\u63d0\u4ea4\u5931\u8d25\uff0c\u8bf7\u518d\u8bd5\u4e00\u6b21\u3002",
    "error.fallback": "\u62b1\u6b49\uff0c\u6211\u73b0\u5728\u9047\u5230\u4e86\u95ee\u9898\uff0c\u8bf7\u7a0d\u540e\u518d\u8bd5\u3002",
    "error.fallback_email": "\u62b1\u6b49\uff0c\u6211\u73b0\u5728\u9047\u5230\u4e86\u95ee\u9898\uff0c\u8bf7\u7a0d\u540e\u518d\u8bd5\uff0c\u6216\u53d1\u90ae\u4ef6\u81f3 {email}\u3002",
    "error.invalid": "\u62b1\u6b49\uff0c\u65e0\u6cd5\u53d1\u9001\uff1a{reason}\u3002",
    "conversation.restarted": "\u62b1\u6b49\uff0c\u65e0\u6cd5\u7ee7\u7eed\u4e4b\u524d\u7684\u5bf9\u8bdd\uff0c\u6211\u5df2\u5f00\u59cb\u4e00\u4e2a\u65b0\u7684\u5bf9\u8bdd\u3002\u4f60\u7684\u6d88\u606f\u6b63\u5728\u53d1\u9001\u3002",
    "notice.agent_joined": "\u6211\u4eec\u56e2\u961f\u7684\u4e00\u4f4d\u540c\u4e8b\u5df2\u52a0\u5165\u5bf9\u8bdd\u3002",
    "notice.agent_left": "\u4f60\u73b0\u5728\u56de\u5230\u4e86\u52a9\u624b\u8fd9\u91cc\u3002",
    "greeting": "\u4f60\u597d\uff01\u6b22\u8fce\u54a8\u8be2\u4ea7\u54c1\u3001\u8ba2\u5355\u3001\u914d\u9001\u548c\u9000\u8d27\u3002",
    "footer.stop": "\u4e0d\u8981\u518d\u8054\u7cfb\u6211",
    "footer.stop_message": "stop contacting me",
    "image.alt": "\u52a9\u624b\u53d1\u9001\u7684\u56fe\u7247",
    "quote.open": "\u6253\u5f00\u62a5\u4ef7\u5355 {number}"
  }
};

/** Return the supported locale closest to `wanted` ("zh", "zh-CN", "zh-Hans" -> "zh-CN"). */
export function pickLocale(wanted) {
  if (typeof wanted !== "string" || !wanted) {
    return "en";
  }
  if (Object.prototype.hasOwnProperty.call(MESSAGES, wanted)) {
    return wanted;
  }
  const language = wanted.toLowerCase().split(/[-_]/)[0];
  for (const locale of Object.keys(MESSAGES)) {
    if (locale.toLowerCase().split("-")[0] === language) {
      return locale;
    }
  }
  return "en";
}

/** Return a translator for `locale`: t(key, vars) with English as the fallback per key. */
export function translator(locale) {
  const chosen = MESSAGES[pickLocale(locale)];
  return function t(key, vars) {
    const template = Object.prototype.hasOwnProperty.call(chosen, key) ? chosen[key] : MESSAGES.en[key];
    if (typeof template !== "string") {
      return key;
    }
    return template.replace(/\{(\w+)\}/g, (match, name) =>
      vars && Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : match);
  };
}
