import assert from "node:assert/strict";
import { test } from "node:test";
import { safeImageUrl, safeLinkUrl, sourceHref } from "../src/safety.js";

const GATEWAY = "https://chat.example.com";

test("images load only from the gateway or an allowed https origin", () => {
  assert.equal(safeImageUrl("/media/a.png", GATEWAY, []), "https://chat.example.com/media/a.png");
  assert.equal(safeImageUrl("https://chat.example.com/x.png", GATEWAY, []), "https://chat.example.com/x.png");
  assert.equal(safeImageUrl("https://cdn.example.net/x.png", GATEWAY, []), null);
  assert.equal(safeImageUrl("https://cdn.example.net/x.png", GATEWAY, ["https://cdn.example.net"]),
    "https://cdn.example.net/x.png");
  assert.equal(safeImageUrl("http://cdn.example.net/x.png", GATEWAY, ["http://cdn.example.net"]), null);
  assert.equal(safeImageUrl("javascript:alert(1)", GATEWAY, []), null);
  assert.equal(safeImageUrl("data:image/png;base64,AAAA", GATEWAY, []), null);
  assert.equal(safeImageUrl("//evil.example/x.png", GATEWAY, []), null);
  assert.equal(safeImageUrl(42, GATEWAY, []), null);
});

test("links are https or the gateway's own", () => {
  assert.equal(safeLinkUrl("https://shop.example/p", GATEWAY), "https://shop.example/p");
  assert.equal(safeLinkUrl("/quotes/abc", GATEWAY), "https://chat.example.com/quotes/abc");
  assert.equal(safeLinkUrl("http://shop.example/p", GATEWAY), null);
  assert.equal(safeLinkUrl("javascript:alert(1)", GATEWAY), null);
  assert.equal(safeLinkUrl("http://127.0.0.1:8000/sources/a", "http://127.0.0.1:8000"),
    "http://127.0.0.1:8000/sources/a");
});

test("source locations become the gateway's source pages, and nothing else", () => {
  assert.equal(sourceHref("docs/shipping.md#returns--refunds", GATEWAY),
    "https://chat.example.com/sources/docs/shipping.md#returns--refunds");
  assert.equal(sourceHref("docs/a b.md", GATEWAY), "https://chat.example.com/sources/docs/a%20b.md");
  for (const bad of ["https://evil.example/x", "/etc/passwd", "javascript:x", "../secret.md", "", null]) {
    assert.equal(sourceHref(bad, GATEWAY), null, String(bad));
  }
});
