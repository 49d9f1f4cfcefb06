// Host normalisation, CONNECT targets, absolute-URL authorities and AUTHSOME_UPSTREAM_RESOLVE.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { AuthsomeError } from "../../src/core/errors.ts";
import { formatAuthority, normalizeHost, parseAuthority, parseUrlAuthority } from "../../src/proxy/address.ts";
import { parseResolveSpec } from "../../src/proxy/server.ts";

describe("proxy addresses", () => {
  it("normalises hosts: lower case, no trailing dot, no brackets", () => {
    assert.equal(normalizeHost("API.Example.TEST."), "api.example.test");
    assert.equal(normalizeHost("[::1]"), "::1");
    assert.equal(normalizeHost("[FE80::1]"), "fe80::1");
  });

  it("parses CONNECT targets strictly", () => {
    assert.deepEqual(parseAuthority("API.Example.TEST.:8443"), { host: "api.example.test", port: 8443 });
    assert.deepEqual(parseAuthority("[::1]:443"), { host: "::1", port: 443 });
    assert.deepEqual(parseAuthority("127.0.0.1:1"), { host: "127.0.0.1", port: 1 });
    for (const bad of ["example.test", "example.test:", "example.test:0", "example.test:65536", "::1:443", "a b:443",
      "-bad.test:443", "x.test:44a", ":443", "a..b:443", "évil.test:443", "host\r\nX: y:443"]) {
      assert.equal(parseAuthority(bad), null, bad);
    }
  });

  it("parses absolute-URL authorities with default ports and userinfo", () => {
    assert.deepEqual(parseUrlAuthority("Example.TEST", 80), { host: "example.test", port: 80 });
    assert.deepEqual(parseUrlAuthority("user:pw@example.test:8080", 80), { host: "example.test", port: 8080 });
    assert.deepEqual(parseUrlAuthority("[::1]", 80), { host: "::1", port: 80 });
    assert.deepEqual(parseUrlAuthority("[::1]:81", 80), { host: "::1", port: 81 });
    assert.deepEqual(parseUrlAuthority("example.test:", 80), { host: "example.test", port: 80 });
    assert.equal(parseUrlAuthority("", 80), null);
    assert.equal(parseUrlAuthority("exa mple.test", 80), null);
  });

  it("formats Host headers without the default port", () => {
    assert.equal(formatAuthority("api.example.test", 443, 443), "api.example.test");
    assert.equal(formatAuthority("api.example.test", 8443, 443), "api.example.test:8443");
    assert.equal(formatAuthority("::1", 8080, 80), "[::1]:8080");
  });

  it("parses AUTHSOME_UPSTREAM_RESOLVE in curl's --resolve form", () => {
    const map = parseResolveSpec(" API.example.test:443:127.0.0.1, other.test:8443:[::1],[::2]:80:10.0.0.1 ,");
    assert.deepEqual([...map], [
      ["api.example.test:443", "127.0.0.1"],
      ["other.test:8443", "::1"],
      ["::2:80", "10.0.0.1"],
    ]);
    assert.equal(parseResolveSpec("").size, 0);
    for (const bad of ["api.test:443", "api.test:443:not-an-ip", "api.test:x:127.0.0.1", "[::1:80:127.0.0.1"]) {
      assert.throws(() => parseResolveSpec(bad), (error: unknown) => error instanceof AuthsomeError && error.code === "usage", bad);
    }
  });
});
