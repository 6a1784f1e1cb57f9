import assert from "node:assert/strict";
import { test } from "node:test";
import { mergeConfig, resolveOrigin } from "../src/config.js";
import { botEntries, createTranscript, entryEvents, MAX_ENTRIES } from "../src/state.js";
import { conversationStore, createStore, KEYS } from "../src/storage.js";

function memoryStore() {
  return createStore(() => { throw new Error("storage refused"); });
}

test("storage falls back to memory when the browser refuses it", () => {
  const store = memoryStore();
  store.set("a", "1");
  assert.equal(store.get("a"), "1");
  store.remove("a");
  assert.equal(store.get("a"), null);
});

test("only well-formed tokens are kept and events are seen once", () => {
  const local = memoryStore();
  const conversation = conversationStore(local);
  assert.equal(conversation.keep({ token: "<script>", conversation_id: "x" }), false);
  assert.equal(conversation.token(), null);
  assert.equal(conversation.keep({ token: "abc.def", conversation_id: "c1" }), true);
  assert.equal(conversation.token(), "abc.def");
  assert.equal(local.get(KEYS.conversation), "c1");
  assert.equal(conversation.markEvent("5"), true);
  assert.equal(conversation.markEvent("5"), false);
  assert.equal(conversation.markEvent("4"), false);
  assert.equal(conversation.markEvent("6"), true);
  assert.equal(conversation.lastEventId(), "6");
  conversation.forget();
  assert.equal(conversation.token(), null);
  assert.equal(conversation.lastEventId(), null);
});

test("reply messages become entries; malformed parts are dropped", () => {
  const entries = botEntries([
    { text: "Hi", buttons: [{ title: "Yes", payload: "/yes" }, { title: "" }, null], custom: [] },
    { text: "", sources: [{ title: "Doc", location: "docs/a.md" }] },
    { text: "" },
    "junk"
  ], false);
  assert.equal(entries.length, 2);
  assert.deepEqual(entries[0].buttons, [{ title: "Yes", payload: "/yes" }]);
  assert.deepEqual(entries[0].custom, {});
  assert.equal(entries[1].sources.length, 1);
});

test("the transcript keeps the last entries across a reload and ignores garbage", () => {
  const session = memoryStore();
  const first = createTranscript(session);
  for (let i = 0; i < MAX_ENTRIES + 5; i++) {
    first.add({ role: "user", text: "m" + i });
  }
  const again = createTranscript(session);
  assert.equal(again.all().length, MAX_ENTRIES);
  assert.equal(again.all()[0].text, "m5");
  session.set(KEYS.transcript, "{not json");
  assert.deepEqual(createTranscript(session).all(), []);
});

test("entries name the host events they stand for", () => {
  assert.deepEqual(entryEvents({ role: "bot", text: "x", custom: {} }), ["answer"]);
  assert.deepEqual(entryEvents({ role: "bot", text: "x", custom: { kind: "lead_captured" } }), ["answer", "lead"]);
  assert.deepEqual(entryEvents({ role: "bot", text: "x", error: true, custom: {} }), []);
  assert.deepEqual(entryEvents({ role: "user", text: "x" }), []);
  assert.deepEqual(entryEvents({ role: "bot", text: "x", custom: { kind: "handoff_unavailable" } }),
    ["answer", "handoff"]);
});

test("data-* attributes override the server's texts; image origins are checked", () => {
  const merged = mergeConfig(
    { title: "Velo", subtitle: "Bikes", locale: "zh-CN", support_email: "a@b.c",
      image_origins: ["https://cdn.example", "javascript:x", 3] },
    { title: "Shop", subtitle: "  " });
  assert.equal(merged.title, "Shop");
  assert.equal(merged.subtitle, "Bikes");
  assert.equal(merged.locale, "zh-CN");
  assert.deepEqual(merged.imageOrigins, ["https://cdn.example"]);
  assert.equal(mergeConfig(null, {}).locale, "en");
  assert.equal(resolveOrigin("https://chat.example/widget.js", null, "https://shop.example/"), "https://chat.example");
  assert.equal(resolveOrigin("https://chat.example/widget.js", "https://other.example/x", "https://shop.example/"),
    "https://other.example");
});
