// The raw HTTP/1.1 relay (src/proxy/relay.ts) over real sockets: an agent writing raw HTTP on one
// side, a scripted upstream on the other that misbehaves the ways real servers do.
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { answer, connectAgent, echo, take, writeAll, type ScriptedUpstream } from "../helpers/raw-peers.ts";
import { createRelayHarness } from "../helpers/relay-harness.ts";

describe("relayTunnel", () => {
  const relay = createRelayHarness();
  const { events, injector } = relay;
  let up: ScriptedUpstream;
  let relayPort: number;
  let authority: string;

  before(async () => {
    ({ up, relayPort } = await relay.start());
    authority = `plain.example.test:${up.port}`;
  });
  beforeEach(() => relay.reset());
  after(() => relay.close());

  it("injects the credential, drops proxy headers both ways, and audits the status", async () => {
    up.behave = (conn) => {
      if (take(up, conn) === null) return;
      // The response head arrives in two pieces, the body in two more (the last once the agent has the first).
      void writeAll(conn.socket, "HTTP/1.1 201 Created\r\nX-Authsome-Debug: leak\r\nContent-")
        .then(() => writeAll(conn.socket, "Length: 5\r\nProxy-Foo: bar\r\nX-Kept: yes\r\n\r\nhel"))
        .then(() => agent.until((text) => text.endsWith("hel")))
        .then(() => conn.socket.write("lo"));
    };
    const request = `GET /v1/items?q=1 HTTP/1.1\r\nHost: ${authority}\r\nAuthorization: Bearer agent-own\r\nProxy-Authorization: Basic abc\r\nX-Authsome-Connection: default\r\n\r\n`;
    const agent = connectAgent(relayPort, request);
    const text = await agent.until((t) => t.endsWith("hello"));
    assert.equal(text, "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Kept: yes\r\n\r\nhello");
    const head = up.heads[0] ?? "";
    assert.match(head, new RegExp(`^GET /v1/items\\?q=1 HTTP/1\\.1\\r\\nHost: ${authority}\\r\\n`));
    assert.match(head, /\r\nauthorization: Bearer plain-secret$/);
    assert.doesNotMatch(head, /agent-own|proxy-|x-authsome/i);
    assert.equal(injector.decisions.at(-1)?.connection, "default");
    assert.deepEqual(events, [{ provider: "plainco", connection: "default", host: "plain.example.test", method: "GET", status: 201 }]);
    agent.socket.destroy();
  });

  it("relays a chunked response with trailers byte for byte, then reuses both connections", async () => {
    const chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Checksum: abc\r\n\r\n";
    up.behave = (conn) => {
      for (let req = take(up, conn); req !== null; req = take(up, conn)) conn.socket.write(req.line.endsWith("/chunked") ? chunked : answer(req));
    };
    const agent = connectAgent(relayPort, `GET /chunked HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    assert.equal(await agent.until((t) => t.endsWith("\r\n\r\n") && t.includes("X-Checksum")), chunked);
    agent.socket.write(`GET /after HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    await agent.until((t) => t.includes("GET /after body=;"));
    assert.equal(up.conns.length, 1);
    assert.equal(up.heads.length, 2);
    agent.socket.destroy();
  });

  it("answers pipelined requests in order, sending each upstream only after the previous answer", async () => {
    const leftovers: number[] = [];
    up.behave = (conn) => {
      for (let req = take(up, conn); req !== null; req = take(up, conn)) {
        leftovers.push(conn.data.length);
        conn.socket.write(answer(req));
      }
    };
    const chunkedBody = "3;x=y\r\nabc\r\n0\r\nTrailer-A: 1\r\n\r\n";
    const agent = connectAgent(
      relayPort,
      `HEAD /first HTTP/1.1\r\nHost: ${authority}\r\n\r\n` +
        `POST /second HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n${chunkedBody}` +
        `POST /third HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 4\r\n\r\nwxyz`,
    );
    const text = await agent.until((t) => t.includes("POST /third body=wxyz;"));
    assert.deepEqual(leftovers, [0, 0, 0]);
    const second = text.indexOf(`POST /second body=${chunkedBody};`);
    // The HEAD answer has a Content-Length and no body: the next answer follows its head directly.
    assert.ok(text.startsWith("HTTP/1.1 200 OK\r\nContent-Length: 18\r\n\r\nHTTP/1.1 200 OK\r\n"), text);
    assert.ok(second > 0 && second < text.indexOf("POST /third"), text);
    assert.equal(up.conns.length, 1);
    assert.deepEqual(events.map((e) => `${e.method} ${e.status}`), ["HEAD 200", "POST 200", "POST 200"]);
    agent.socket.destroy();
  });

  it("passes 100 Continue through and audits only the final status", async () => {
    up.behave = (conn) => {
      if (conn.requests === 0 && conn.data.includes("\r\n\r\n") && !conn.raw.includes("hello")) conn.socket.write("HTTP/1.1 100 Continue\r\n\r\n");
      echo(up)(conn);
    };
    const agent = connectAgent(relayPort, `POST /upload HTTP/1.1\r\nHost: ${authority}\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n`);
    await agent.until((t) => t.endsWith("HTTP/1.1 100 Continue\r\n\r\n"));
    agent.socket.write("hello");
    await agent.until((t) => t.includes("POST /upload body=hello;"));
    assert.match(up.heads[0] ?? "", /\r\nExpect: 100-continue/);
    assert.deepEqual(events.map((e) => e.status), [200]);
    agent.socket.destroy();
  });

  it("ends the agent's connection with a close-delimited response", async () => {
    up.behave = (conn) => {
      if (take(up, conn) === null) return;
      conn.socket.write("HTTP/1.1 200 OK\r\nX: y\r\n\r\npart1,");
      void agent.until((t) => t.endsWith("part1,")).then(() => conn.socket.end("part2"));
    };
    const agent = connectAgent(relayPort, `GET /stream HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    assert.equal(await agent.ended, "HTTP/1.1 200 OK\r\nX: y\r\n\r\npart1,part2");
    assert.deepEqual(events.map((e) => e.status), [200]);
  });

  it("closes both connections after an early answer to an unfinished upload", async () => {
    up.behave = (conn) => {
      if (conn.requests === 0 && conn.data.includes("\r\n\r\n")) {
        conn.requests = 1;
        conn.socket.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nnope");
      }
    };
    const agent = connectAgent(relayPort, `POST /big HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 100000\r\n\r\npartial`);
    assert.equal(await agent.ended, "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nnope");
    await up.conns[0]?.closed;
    assert.deepEqual(events.map((e) => e.status), [413]);
  });

  it("does not pool an upstream connection it asked to close", async () => {
    const agent = connectAgent(relayPort, `GET /bye HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`);
    assert.match(await agent.ended, /GET \/bye body=;$/);
    assert.match(up.heads[0] ?? "", /\r\nConnection: close$/);
    // This upstream does not close it itself; a real one might, the moment it has answered.
    await connectAgent(relayPort, `GET /next HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`).ended;
    assert.equal(up.conns.length, 2);
  });

  it("ends the agent's connection after the upstream's Connection: close, and does not pool it", async () => {
    up.behave = (conn) => {
      for (let req = take(up, conn); req !== null; req = take(up, conn)) conn.socket.write(answer(req, "Connection: close\r\n"));
    };
    const agent = connectAgent(relayPort, `GET /server-closes HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    assert.match(await agent.ended, /Connection: close\r\n\r\nGET \/server-closes body=;$/);
    await connectAgent(relayPort, `GET /fresh HTTP/1.1\r\nHost: ${authority}\r\nConnection: close\r\n\r\n`).ended;
    assert.equal(up.conns.length, 2);
  });

  // The idle timeout (5 s) would close it too: the test's own timeout tells the two apart.
  it("answers an agent that half-closed after its requests, then closes", { timeout: 2_000 }, async () => {
    const agent = connectAgent(relayPort);
    agent.socket.end(`GET /a HTTP/1.1\r\nHost: ${authority}\r\n\r\nGET /b HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    assert.match(await agent.ended, /GET \/a body=;HTTP\/1\.1 200 OK\r\n[^]*GET \/b body=;$/);
  });

  it("drops the agent's connection when the upstream cuts a response short", async () => {
    up.behave = (conn) => void (take(up, conn) !== null && conn.socket.end("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"));
    const text = await connectAgent(relayPort, `GET /cut HTTP/1.1\r\nHost: ${authority}\r\n\r\n`).ended;
    assert.equal(text, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
  });

  it("502 with the reason for a malformed upstream response, audited as 502", async () => {
    const responses = ["HTTP/1.1 2000 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\nok", "HTTP/1.1 101 Switching Protocols\r\n\r\n"];
    const reasons = [/malformed status line/, /both Transfer-Encoding and Content-Length/, /switched protocols unasked/];
    for (const [i, response] of responses.entries()) {
      up.behave = (conn) => void (take(up, conn) !== null && conn.socket.write(response));
      const text = await connectAgent(relayPort, `GET / HTTP/1.1\r\nHost: ${authority}\r\n\r\n`).ended;
      assert.match(text, /^HTTP\/1\.1 502 /, `case ${i}`);
      assert.match(text, reasons[i] ?? /./);
    }
    assert.deepEqual(events.map((e) => e.status), [502, 502, 502]);
  });

  it("resends a bodiless request once when a pooled connection turns out closed", async () => {
    // The second request on each upstream connection meets a close: a keep-alive timeout racing it.
    up.behave = (conn) => {
      if (conn.requests === 1 && conn.data.includes("\r\n\r\n")) return void conn.socket.destroy();
      echo(up)(conn);
    };
    const agent = connectAgent(relayPort, `GET /one HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    await agent.until((t) => t.includes("GET /one body=;"));
    agent.socket.write(`GET /two HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    await agent.until((t) => t.includes("GET /two body=;"));
    assert.equal(up.conns.length, 2);
    assert.match(up.conns[0]?.raw ?? "", /GET \/two /, "first sent on the pooled connection");
    assert.deepEqual(events.map((e) => e.status), [200, 200]);
    // A request with a body is not resent: the upstream may have acted on it.
    agent.socket.write(`POST /three HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 3\r\n\r\nabc`);
    assert.match(await agent.ended, /HTTP\/1\.1 502 [^]*Connection: close\r\n\r\nauthsome proxy: .* closed the connection without answering\n$/);
    assert.equal(up.conns.length, 2);
  });

  it("still succeeds when the upstream closes each connection right after answering", async () => {
    up.behave = (conn) => {
      const req = take(up, conn);
      if (req !== null) conn.socket.end(answer(req));
    };
    const agent = connectAgent(relayPort, `GET /a HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    await agent.until((t) => t.includes("GET /a body=;"));
    agent.socket.write(`GET /b HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
    await agent.until((t) => t.includes("GET /b body=;"));
    agent.socket.destroy();
  });

  it("502 naming host:port when the upstream closes without answering", async () => {
    up.behave = (conn) => void (conn.data.includes("\r\n\r\n") && conn.socket.destroy());
    const text = await connectAgent(relayPort, `GET /void HTTP/1.1\r\nHost: ${authority}\r\n\r\n`).ended;
    assert.match(text, /^HTTP\/1\.1 502 Bad Gateway\r\n/);
    assert.ok(text.endsWith(`\r\nConnection: close\r\n\r\nauthsome proxy: ${authority} closed the connection without answering\n`), text);
    assert.deepEqual(events.map((e) => e.status), [502]);
  });

  it("refuses smuggling attempts and malformed heads; the upstream never sees a second request", async () => {
    const smuggled = `GET /smuggled HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;
    const cases: [number, string][] = [
      [400, `POST / HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${smuggled}`],
      [400, `POST / HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n${smuggled}`],
      [400, `POST / HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n${smuggled}`],
      [400, `POST / HTTP/1.1\r\nHost: ${authority}\r\nContent-Length: 1\r\nContent-Length: 40\r\n\r\nx${smuggled}`],
      [501, `POST / HTTP/1.1\r\nHost: ${authority}\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n${smuggled}`],
      [400, `GET / HTTP/1.1\r\nHost: ${authority}\r\nX: a\r\n folded\r\n\r\n`],
      [505, `GET / HTTP/2.0\r\nHost: ${authority}\r\n\r\n`],
      [405, `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`],
      [431, `GET / HTTP/1.1\r\nHost: ${authority}\r\nX-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`],
    ];
    for (const [status, request] of cases) {
      const text = await connectAgent(relayPort, request).ended;
      assert.match(text, new RegExp(`^HTTP/1\\.1 ${status} [^]*\\r\\nConnection: close\\r\\n\\r\\nauthsome proxy: `), request.slice(0, 80));
    }
    await Promise.all(up.conns.map((conn) => conn.closed));
    assert.ok(up.conns.every((conn) => !conn.raw.includes("smuggled")));
    assert.equal(up.heads.length, 0);
  });

  it("relays a WebSocket upgrade, then bytes both ways", async () => {
    up.behave = (conn) => {
      if (conn.requests === 0) {
        if (take(up, conn) === null) return;
        conn.socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
      }
      // As one WebSocket text frame: the answer to an injected handshake is scrubbed frame by frame.
      if (conn.data.length > 0) conn.socket.write(Buffer.concat([Buffer.from([0x81, 5 + conn.data.length]), Buffer.from(`echo:${conn.data}`)]));
      conn.data = "";
    };
    const handshake = `GET /ws HTTP/1.1\r\nHost: ${authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const agent = connectAgent(relayPort, handshake);
    await agent.until((t) => t.endsWith("Connection: Upgrade\r\n\r\n"));
    agent.socket.write("ping");
    await agent.until((t) => t.endsWith("echo:ping"));
    assert.match(up.heads[0] ?? "", /\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n/);
    assert.deepEqual(events.map((e) => e.status), [101]);
    agent.socket.destroy();
  });
});
