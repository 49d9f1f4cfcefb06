// Bare LF and bare CR in heads inside an intercepted tunnel (src/proxy/relay.ts with http1.ts's
// findHeadEnd), over real sockets: answered 400 (502 from the upstream) and closed, never a hang.
// A head delimited by bare LFs never contains CRLF CRLF, so a relay that only looked for that waited
// until its idle timeout (5 s) and closed without a word: every test here has a 2 s limit, so such
// a regression fails instead of passing late.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { connectAgent, take, writeAll, type ScriptedUpstream } from "../helpers/raw-peers.ts";
import { createRelayHarness } from "../helpers/relay-harness.ts";

const LIMIT = { timeout: 2_000 };

describe("relayTunnel: bare LF and CR", () => {
  const relay = createRelayHarness();
  const { events } = relay;
  let up: ScriptedUpstream;
  let relayPort: number;
  let authority: string;

  before(async () => {
    ({ up, relayPort } = await relay.start());
    authority = `plain.example.test:${up.port}`;
  });
  beforeEach(() => relay.reset());
  after(() => relay.close());

  /** The agent keeps its side open: only the relay's answer and close can end `ended`. */
  const answerTo = (request: string): Promise<string> => connectAgent(relayPort, request).ended;
  const refused = (status: number, what: string) => new RegExp(`^HTTP/1\\.1 ${status} [^]*\\r\\nConnection: close\\r\\n\\r\\nauthsome proxy: ${what}\\n$`);

  it("answers a request delimited by bare LFs with 400 and closes", LIMIT, async () => {
    const cases = [
      "GET / HTTP/1.1\nHost: x\n\n",
      "GET / HTTP/1.1\r\nHost: x\n\n",
      "GET / HTTP/1.1\r\nHost: x\r\n\n",
      "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n",
      "\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
      "\r\n\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
      // Incomplete heads: the bare LF alone is enough to answer, without waiting for the rest.
      "GET / HTTP/1.1\n",
      "GET / HTTP/1.1\r\nHost: x\n",
    ];
    for (const request of cases) assert.match(await answerTo(request), refused(400, "bare LF in the message head"), JSON.stringify(request));
    assert.equal(up.heads.length, 0);
  });

  it("answers a bare CR with 400, whether the head is complete or not", LIMIT, async () => {
    for (const request of ["GET / HTTP/1.1\rHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\rX", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n"]) {
      assert.match(await answerTo(request), refused(400, "bare CR in the message head"), JSON.stringify(request));
    }
    assert.equal(up.heads.length, 0);
  });

  it("finds a bare LF that arrives in a later piece than the head's start", LIMIT, async () => {
    const agent = connectAgent(relayPort, `GET / HTTP/1.1\r\nHost: ${authority}\r`);
    await writeAll(agent.socket, "\nX-Long: ");
    await writeAll(agent.socket, `${"a".repeat(2000)}\r\nX-Next: b`);
    await writeAll(agent.socket, "\n\n");
    assert.match(await agent.ended, refused(400, "bare LF in the message head"));
    assert.equal(up.heads.length, 0);
  });

  it("still relays a head whose CR and LF arrive in separate pieces", LIMIT, async () => {
    const agent = connectAgent(relayPort, "GET /split HTTP/1.1\r");
    for (const piece of [`\nHost: ${authority}\r`, "\n\r", "\n"]) await writeAll(agent.socket, piece);
    await agent.until((text) => text.includes("GET /split body=;"));
    assert.equal(up.heads.length, 1);
    agent.socket.destroy();
  });

  it("answers the good request before a pipelined bare-LF one, then 400", LIMIT, async () => {
    const text = await answerTo(`GET /first HTTP/1.1\r\nHost: ${authority}\r\n\r\nGET /second HTTP/1.1\nHost: ${authority}\n\n`);
    assert.ok(text.startsWith("HTTP/1.1 200 OK\r\n") && text.includes("GET /first body=;"), text);
    assert.match(text.slice(text.indexOf("GET /first body=;")), /^GET \/first body=;HTTP\/1\.1 400 [^]*bare LF in the message head\n$/);
    assert.deepEqual(up.heads.map((head) => head.split(" ")[1]), ["/first"]);
  });

  it("answers an upstream response head with a bare LF with 502 and audits it", LIMIT, async () => {
    up.behave = (conn) => {
      // The upstream keeps its connection open: only the relay's check can end the exchange.
      if (take(up, conn) !== null) conn.socket.write("HTTP/1.1 200 OK\nContent-Length: 0\n\n");
    };
    assert.match(await answerTo(`GET / HTTP/1.1\r\nHost: ${authority}\r\n\r\n`), refused(502, "bare LF in the message head"));
    assert.deepEqual(events.map((event) => event.status), [502]);
  });
});
