// Refusals: 407 without the run's credential, 403 for undeclared hosts under --deny-unmatched,
// 502 with a reason when the upstream cannot be trusted or reached.
import assert from "node:assert/strict";
import net from "node:net";
import { after, before, describe, it } from "node:test";
import { connectRaw, curl, exchange, proxyAuth } from "../helpers/proxy-clients.ts";
import { startProxyFixture, type ProxyFixture } from "../helpers/proxy-fixture.ts";

/** A raw plain-HTTP request to the proxy; resolves with the whole answer. */
async function rawRequest(port: number, request: string): Promise<string> {
  const socket = net.connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  return exchange(socket, request);
}

describe("proxy refusals", () => {
  let fx: ProxyFixture;
  before(async () => {
    fx = await startProxyFixture();
  });
  after(() => fx.close());

  it("407 for CONNECT and plain requests without the run's credential", async () => {
    const authority = `api.example.test:${fx.api.port}`;
    const connections = fx.api.connections;
    for (const headers of [[], [proxyAuth(fx, "_", "wrong")], ["Proxy-Authorization: Bearer nope"], [proxyAuth(fx, "work", "")]]) {
      const { head, socket } = await connectRaw(fx.port, authority, headers);
      socket.destroy();
      assert.match(head, /^HTTP\/1\.1 407 /);
      assert.match(head, /\r\nProxy-Authenticate: Basic realm="authsome"/);
    }
    const plain = await rawRequest(fx.port, `GET http://plain.example.test:${fx.plain.port}/x HTTP/1.1\r\nHost: plain.example.test\r\nConnection: close\r\n\r\n`);
    assert.match(plain, /^HTTP\/1\.1 407 /);
    const viaCurl = await curl(fx, `https://${authority}/`, [], `http://_:wrong@127.0.0.1:${fx.port}`);
    assert.notEqual(viaCurl.exit, 0);
    assert.equal(fx.api.connections, connections);
    assert.equal(fx.plain.requests.length, 0);
    assert.ok(!plain.includes(fx.token));
  });

  it("400 for a malformed CONNECT target or an origin-form request", async () => {
    for (const target of ["no-port", "bad host:443", "[::1:443", "example.test:99999"]) {
      const { head, socket } = await connectRaw(fx.port, target, [proxyAuth(fx)]);
      socket.destroy();
      assert.match(head, /^HTTP\/1\.1 400 /, target);
    }
    const answer = await rawRequest(fx.port, `GET /x HTTP/1.1\r\nHost: a\r\n${proxyAuth(fx)}\r\nConnection: close\r\n\r\n`);
    assert.match(answer, /^HTTP\/1\.1 400 [^]*forward proxy/);
  });

  it("502 naming the code when the injector fails, and nothing reaches the upstream", async () => {
    const before = fx.api.requests.length;
    const result = await curl(fx, `https://expired.example.test:${fx.api.port}/`);
    assert.equal(result.status, 502);
    assert.match(result.body, /needs_login: connection "default" of provider "example" needs a new login \(run: authsome login/);
    assert.equal(fx.api.requests.length, before);
    const { head, socket } = await connectRaw(fx.port, "broken.example.test:443", [proxyAuth(fx)]);
    const body = await exchange(socket, "");
    assert.match(head, /^HTTP\/1\.1 502 /);
    assert.match(body, /storage_failed: the vault cannot be read/);
  });

  it("502 with the reason when the upstream certificate is untrusted", async () => {
    const result = await curl(fx, `https://untrusted.example.test:${fx.attacker.port}/`);
    assert.equal(result.status, 502);
    assert.match(result.body, /untrusted\.example\.test:\d+ is not trusted/);
    assert.equal(fx.attacker.requests.length, 0);
    assert.equal(fx.events.at(-1)?.status, 502);
  });

  it("502 when the upstream certificate is for another name", async () => {
    const result = await curl(fx, `https://mismatch.example.test:${fx.api.port}/`);
    assert.equal(result.status, 502);
    assert.match(result.body, /not valid for the name mismatch\.example\.test/);
  });

  it("502 when the upstream cannot be reached (intercepted and blind)", async () => {
    const intercepted = await curl(fx, `https://unreachable.example.test:${fx.closedPort}/`);
    assert.equal(intercepted.status, 502);
    assert.match(intercepted.body, /cannot reach unreachable\.example\.test:\d+ \(ECONNREFUSED\)/);
    const { head, socket } = await connectRaw(fx.port, `127.0.0.1:${fx.closedPort}`, [proxyAuth(fx)]);
    socket.destroy();
    assert.match(head, /^HTTP\/1\.1 502 /);
  });
});

describe("--deny-unmatched", () => {
  let fx: ProxyFixture;
  before(async () => {
    fx = await startProxyFixture({ denyUnmatched: true });
  });
  after(() => fx.close());

  it("403 naming the host, and the upstream sees nothing", async () => {
    const { head, socket } = await connectRaw(fx.port, `other.example.test:${fx.api.port}`, [proxyAuth(fx)]);
    const body = await exchange(socket, "");
    assert.match(head, /^HTTP\/1\.1 403 /);
    assert.match(body, /other\.example\.test is not declared by any connected provider/);
    assert.match(body, /log in to a provider/);
    const plain = await curl(fx, `http://other.example.test:${fx.plain.port}/`);
    assert.equal(plain.status, 403);
    assert.match(plain.body, /other\.example\.test/);
    assert.equal(fx.api.connections, 0);
    assert.equal(fx.plain.connections, 0);
  });

  it("declared hosts still pass", async () => {
    const result = await curl(fx, `https://api.example.test:${fx.api.port}/allowed`);
    assert.equal(result.status, 200, result.stderr);
    const plain = await curl(fx, `http://plain.example.test:${fx.plain.port}/allowed`);
    assert.equal(plain.status, 200);
  });
});
