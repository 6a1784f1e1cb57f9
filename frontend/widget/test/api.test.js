import assert from "node:assert/strict";
import { test } from "node:test";
import { createCommand, createEmitter, drainQueue, identity } from "../src/api.js";

test("calls queued before the bundle arrived run in order", () => {
  const ran = [];
  const command = createCommand({ open: () => ran.push("open"), send: (text) => ran.push("send:" + text) });
  const queue = [];
  (function () { queue.push(arguments); })("open");
  (function () { queue.push(arguments); })("send", "hi");
  drainQueue(queue, command);
  assert.deepEqual(ran, ["open", "send:hi"]);
  assert.equal(queue.length, 0);
});

test("unknown commands and throwing handlers are reported, not thrown", (t) => {
  const warn = t.mock.method(console, "warn", () => {});
  const error = t.mock.method(console, "error", () => {});
  const command = createCommand({ boom: () => { throw new Error("x"); } });
  assert.equal(command("nope"), undefined);
  assert.equal(command("boom"), undefined);
  assert.equal(warn.mock.callCount(), 1);
  assert.equal(error.mock.callCount(), 1);
});

test("listeners get their events; a failing one does not stop the others", (t) => {
  t.mock.method(console, "error", () => {});
  const events = createEmitter();
  const got = [];
  assert.equal(events.on("open", () => { throw new Error("host bug"); }), true);
  assert.equal(events.on("open", (detail) => got.push(detail)), true);
  assert.equal(events.on("no-such-event", () => {}), false);
  events.emit("open", { a: 1 });
  assert.deepEqual(got, [{ a: 1 }]);
});

test("identify keeps a valid email and name only", () => {
  assert.deepEqual(identity({ email: " ana@shop.example ", name: "Ana" }), { email: "ana@shop.example", name: "Ana" });
  assert.deepEqual(identity({ email: "not-an-email", name: "Ana" }), { name: "Ana" });
  assert.equal(identity({ email: "nope" }), null);
  assert.equal(identity("ana@shop.example"), null);
});
