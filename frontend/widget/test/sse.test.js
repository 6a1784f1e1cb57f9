import assert from "node:assert/strict";
import { test } from "node:test";
import { eventSplitter, parseEvent } from "../src/sse.js";

test("an event block gives its name, id and JSON data", () => {
  assert.deepEqual(parseEvent('event: agent_joined\nid: 7\ndata: {"a":1}'),
    { event: "agent_joined", id: "7", data: { a: 1 } });
  assert.deepEqual(parseEvent('data: {"a":\ndata: 2}'), { event: "message", id: null, data: { a: 2 } });
  assert.equal(parseEvent(": keep-alive"), null);
  assert.equal(parseEvent("data: not json"), null);
});

test("events split across chunks and CRLF line ends arrive whole, once", () => {
  const seen = [];
  const feed = eventSplitter((event) => seen.push(event));
  feed('id: 1\r\ndata: {"n"');
  assert.equal(seen.length, 0);
  feed(':1}\r\n\r\n: ping\n\nid: 2\ndata: {"n":2}\n\n');
  assert.deepEqual(seen.map((e) => [e.id, e.data.n]), [["1", 1], ["2", 2]]);
});
