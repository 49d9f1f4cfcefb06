// Real clients (curl, python3 urllib, undici, Deno fetch) reach a real HTTPS upstream through
// the proxy, and the upstream sees the injected credential.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ProxyAgent, fetch as undiciFetch } from "undici";
import { curl, run } from "../helpers/proxy-clients.ts";
import { SECRET, startProxyFixture, type ProxyFixture } from "../helpers/proxy-fixture.ts";

/** The part of the Deno namespace this test uses (the type checker runs with Node types only). */
interface DenoHttp {
  createHttpClient(options: {
    proxy: { url: string; basicAuth?: { username: string; password: string } };
    caCerts: string[];
  }): { close(): void };
}

const deno: DenoHttp | undefined = "Deno" in globalThis ? (globalThis as unknown as { Deno: DenoHttp }).Deno : undefined;

describe("clients through the proxy", () => {
  let fx: ProxyFixture;
  before(async () => {
    fx = await startProxyFixture();
  });
  after(() => fx.close());

  const apiUrl = (path: string): string => `https://api.example.test:${fx.api.port}${path}`;

  it("curl", async () => {
    const result = await curl(fx, apiUrl("/curl?x=1"));
    assert.equal(result.exit, 0, result.stderr);
    assert.equal(result.status, 200);
    const seen = fx.api.requests.at(-1);
    assert.equal(seen?.url, "/curl?x=1");
    assert.equal(seen?.headers.authorization, SECRET);
    assert.equal(seen?.servername, "api.example.test");
    assert.deepEqual(fx.events.at(-1), { provider: "example", connection: "default", host: "api.example.test", method: "GET", status: 200 });
  });

  it("python3 urllib (HTTPS_PROXY + SSL_CERT_FILE)", async () => {
    const script = "import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())";
    const result = await run("python3", ["-c", script, apiUrl("/python")], {
      HTTPS_PROXY: fx.proxyUrl,
      https_proxy: fx.proxyUrl,
      SSL_CERT_FILE: fx.bundlePath,
      NO_PROXY: "",
      no_proxy: "",
    });
    assert.equal(result.exit, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).url, "/python");
    assert.equal(fx.api.requests.at(-1)?.headers.authorization, SECRET);
  });

  it("undici fetch with ProxyAgent", async () => {
    const dispatcher = new ProxyAgent({ uri: fx.proxyUrl, requestTls: { ca: fx.bundlePem } });
    try {
      for (const path of ["/undici/1", "/undici/2"]) {
        const response = await undiciFetch(apiUrl(path), { dispatcher });
        assert.equal(response.status, 200);
        assert.equal(((await response.json()) as { url: string }).url, path);
        assert.equal(fx.api.requests.at(-1)?.headers.authorization, SECRET);
      }
    } finally {
      await dispatcher.close();
    }
  });

  it("Deno fetch with createHttpClient({ proxy })", { skip: deno === undefined ? "Deno only" : false }, async () => {
    if (deno === undefined) return;
    const client = deno.createHttpClient({
      proxy: { url: `http://127.0.0.1:${fx.port}`, basicAuth: { username: "_", password: fx.token } },
      caCerts: [fx.bundlePem],
    });
    try {
      const init: RequestInit & { client: unknown } = { client };
      const response = await fetch(apiUrl("/deno"), init);
      assert.equal(response.status, 200);
      assert.equal(((await response.json()) as { url: string }).url, "/deno");
      assert.equal(fx.api.requests.at(-1)?.headers.authorization, SECRET);
    } finally {
      client.close();
    }
  });
});
