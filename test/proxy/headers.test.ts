// Header rewriting on flat rawHeaders arrays, and request-target handling.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { originFormPath } from "../../src/proxy/forward.ts";
import { buildRequestHeaders, buildResponseHeaders, connectionHeader, isWebSocketUpgrade } from "../../src/proxy/headers.ts";

const decision = { provider: "p", connection: "c", headers: { authorization: "Bearer injected" }, query: {} };

describe("proxy headers", () => {
  it("sets Host, drops hop-by-hop and proxy headers, replaces injected ones", () => {
    const raw = ["Host", "evil.test", "Authorization", "Bearer agent", "Connection", "keep-alive, X-Hop", "X-Hop", "1",
      "Keep-Alive", "timeout=5", "Proxy-Authorization", "Basic eA==", "Proxy-Connection", "keep-alive", "TE", "trailers",
      "Trailer", "X-T", "Upgrade", "h2c", "X-Authsome-Connection", "work", "Accept", "a", "Accept", "b", "Content-Length", "3"];
    assert.deepEqual(buildRequestHeaders(raw, "api.test", decision, false), [
      "Host", "api.test", "Accept", "a", "Accept", "b", "Content-Length", "3", "authorization", "Bearer injected",
    ]);
  });

  it("keeps body framing even when Connection lists it, and restates chunked", () => {
    const raw = ["Connection", "Content-Length, Transfer-Encoding", "Transfer-Encoding", "chunked"];
    assert.deepEqual(buildRequestHeaders(raw, "h", null, false), ["Host", "h", "Transfer-Encoding", "chunked"]);
    assert.deepEqual(buildRequestHeaders(["Content-Length", "5", "Connection", "content-length"], "h", null, false), [
      "Host", "h", "Content-Length", "5",
    ]);
  });

  it("restates the WebSocket handshake", () => {
    const raw = ["Upgrade", "websocket", "Connection", "Upgrade", "Sec-WebSocket-Key", "k"];
    assert.ok(isWebSocketUpgrade(raw));
    assert.ok(!isWebSocketUpgrade(["Upgrade", "h2c"]));
    assert.deepEqual(buildRequestHeaders(raw, "h", null, true), [
      "Host", "h", "Sec-WebSocket-Key", "k", "Connection", "Upgrade", "Upgrade", "websocket",
    ]);
  });

  it("filters response headers, keeping Upgrade only for a 101", () => {
    const raw = ["Content-Type", "text/plain", "Connection", "close, X-Hop", "X-Hop", "1", "Transfer-Encoding", "chunked",
      "Set-Cookie", "a=1", "Set-Cookie", "b=2", "Proxy-Authenticate", "Basic", "Upgrade", "websocket"];
    assert.deepEqual(buildResponseHeaders(raw), ["Content-Type", "text/plain", "Set-Cookie", "a=1", "Set-Cookie", "b=2"]);
    assert.deepEqual(buildResponseHeaders(["Upgrade", "websocket", "Connection", "Upgrade"], true), [
      "Upgrade", "websocket", "Connection", "Upgrade",
    ]);
  });

  it("reads X-Authsome-Connection in any case", () => {
    assert.equal(connectionHeader(["x-AUTHSOME-connection", " work "]), "work");
    assert.equal(connectionHeader(["X-Authsome-Connection", ""]), undefined);
    assert.equal(connectionHeader([]), undefined);
  });

  it("takes the origin-form path of a request target", () => {
    assert.equal(originFormPath("/a?b=1"), "/a?b=1");
    assert.equal(originFormPath("//evil.test/x"), "//evil.test/x");
    assert.equal(originFormPath("https://other.test:8443/p?q#frag"), "/p?q");
    assert.equal(originFormPath("http://other.test?q"), "/?q");
    assert.equal(originFormPath("*"), null);
    assert.equal(originFormPath("evil.test/x"), null);
  });
});
