import assert from "node:assert/strict";
import { test } from "node:test";
import { MESSAGES, pickLocale, translator } from "../src/i18n.js";

test("every locale translates every English key, and nothing else", () => {
  const keys = Object.keys(MESSAGES.en).sort();
  for (const [locale, messages] of Object.entries(MESSAGES)) {
    assert.deepEqual(Object.keys(messages).sort(), keys, locale);
    for (const [key, text] of Object.entries(messages)) {
      const wanted = (MESSAGES.en[key].match(/\{\w+\}/g) || []).sort();
      assert.deepEqual((text.match(/\{\w+\}/g) || []).sort(), wanted, `${locale} ${key}`);
    }
  }
});

test("locales are matched by language and fall back to English", () => {
  assert.equal(pickLocale("zh-CN"), "zh-CN");
  assert.equal(pickLocale("zh"), "zh-CN");
  assert.equal(pickLocale("zh-Hans"), "zh-CN");
  assert.equal(pickLocale("de-DE"), "en");
  assert.equal(pickLocale(undefined), "en");
});

test("placeholders are filled, unknown ones kept", () => {
  const t = translator("en");
  assert.equal(t("launcher.open", { title: "Velo" }), "Open chat: Velo");
  assert.equal(t("launcher.open"), "Open chat: {title}");
  assert.equal(translator("zh-CN")("send"), "\u53d1\u9001");
  assert.equal(t("no.such.key"), "no.such.key");
});
