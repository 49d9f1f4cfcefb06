// A bare LF inside an intercepted tunnel, through the whole proxy (CONNECT, TLS interception with
// the proxy's CA, the raw relay): 400 and closed, never a hang (issue 10). The relay alone is
// covered in relay-framing.test.ts; this is what an agent under `authsome run` meets. Each test
// has a 3 s limit: the tunnel's idle timeout (5 s) would close a hung tunnel without an answer.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { connectRaw, exchange, proxyAuth, tlsThroughProxy } from "../helpers/proxy-clients.ts";
import { startProxyFixture, type ProxyFixture } from "../helpers/proxy-fixture.ts";

const LIMIT = { timeout: 3_000 };

describe("bare LF in an intercepted tunnel", () => {
  let fx: ProxyFixture;
  before(async () => {
    fx = await startProxyFixture();
  });
  after(() => fx.close());

  it("answers a bare-LF request over intercepted TLS with 400 and closes; the upstream sees nothing", LIMIT, async () => {
    const before = fx.api.requests.length;
    for (const request of ["GET / HTTP/1.1\nHost: api.example.test\n\n", "GET / HTTP/1.1\r\nHost: api.example.test\n\n"]) {
      const secure = await tlsThroughProxy(fx, "api.example.test", fx.api.port, fx.ca.caCertPem());
      const answer = await exchange(secure, request);
      assert.match(answer, /^HTTP\/1\.1 400 [^]*\r\nConnection: close\r\n\r\nauthsome proxy: bare LF in the message head\n$/, JSON.stringify(request));
    }
    assert.equal(fx.api.requests.length, before);
  });

  it("answers a bare-LF request in a tunnel carrying plain HTTP (as undici sends http://) with 400", LIMIT, async () => {
    const before = fx.plain.requests.length;
    const { head, socket } = await connectRaw(fx.port, `plain.example.test:${fx.plain.port}`, [proxyAuth(fx)]);
    assert.match(head, /^HTTP\/1\.1 200 /);
    const answer = await exchange(socket, "GET /x HTTP/1.1\nHost: plain.example.test\n\n");
    assert.match(answer, /^HTTP\/1\.1 400 [^]*authsome proxy: bare LF in the message head\n$/);
    assert.equal(fx.plain.requests.length, before);
  });
});
