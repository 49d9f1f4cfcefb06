// The terminator: plain and TLS tunnels become byte streams carrying their CONNECT session, TLS
// uses the leaf for the session's host whatever the SNI, offers only HTTP/1.1, and a stream
// stays open for as many requests as the client sends.
import assert from "node:assert/strict";
import net from "node:net";
import type { Duplex } from "node:stream";
import { after, before, describe, it } from "node:test";
import tls from "node:tls";
import { createCertificateAuthority, createMemoryCaStore, type CertificateAuthority } from "../../src/proxy/ca.ts";
import { createTerminator, type TunnelSession } from "../../src/proxy/terminate.ts";
import { createUpstream } from "../../src/proxy/upstream.ts";
import { exchange, readUntil } from "../helpers/proxy-clients.ts";

const HOST = "unit.example.test";

/** A stand-in for the relay: answers each request line it reads with the path and session. */
function answerRequests(socket: Duplex, session: TunnelSession, seen: string[], first?: Buffer): void {
  let text = first?.toString("latin1") ?? "";
  const serve = (): void => {
    for (let end = text.indexOf("\r\n\r\n"); end >= 0; end = text.indexOf("\r\n\r\n")) {
      const path = text.slice(0, end).split(" ")[1] ?? "";
      const close = /\r\nConnection: close/i.test(text.slice(0, end));
      text = text.slice(end + 4);
      seen.push(path);
      const body = `hello ${session.username} via ${session.target.scheme} to ${path}`;
      const reply = `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
      if (close) socket.end(reply);
      else socket.write(reply);
    }
  };
  socket.on("data", (chunk: Buffer) => {
    text += chunk.toString("latin1");
    serve();
  });
  socket.resume();
  serve();
}

describe("terminator", () => {
  let ca: CertificateAuthority;
  let tunnels: net.Server;
  let port = 0;
  const seen: string[] = [];

  before(async () => {
    ca = await createCertificateAuthority(createMemoryCaStore());
    const terminator = createTerminator(ca, (socket, session, first) => answerRequests(socket, session, seen, first));
    const upstream = createUpstream();
    // Stands in for the CONNECT step: the first bytes decide TLS or plain, as tunnel.ts does.
    tunnels = net.createServer((socket) => {
      socket.once("data", (first: Buffer) => {
        socket.pause();
        const secure = first[0] === 0x16;
        const target = upstream.target(secure ? "https" : "http", HOST, 443);
        void terminator.accept(socket, first, { target, username: "alice" }, secure);
      });
    });
    await new Promise<void>((resolve) => tunnels.listen(0, "127.0.0.1", resolve));
    port = (tunnels.address() as net.AddressInfo).port;
  });
  after(() => void tunnels.close());

  const open = async (): Promise<net.Socket> => {
    const socket = net.connect(port, "127.0.0.1");
    await new Promise((resolve) => socket.once("connect", resolve));
    return socket;
  };

  it("hands a plain tunnel over with the bytes already read and its session", async () => {
    const answer = await exchange(await open(), "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(answer, /hello alice via http to \/plain$/);
    assert.equal(seen.at(-1), "/plain");
  });

  it("terminates TLS with the leaf for the session host, whatever the SNI, over HTTP/1.1", async () => {
    const secure = tls.connect({
      socket: await open(),
      servername: "sni.other.test",
      ca: ca.caCertPem(),
      ALPNProtocols: ["h2", "http/1.1"],
      checkServerIdentity: (_name, cert) => tls.checkServerIdentity(HOST, cert),
    });
    await new Promise((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
    assert.equal(secure.alpnProtocol, "http/1.1");
    assert.equal(secure.getPeerCertificate().subjectaltname, `DNS:${HOST}`);
    const answer = await exchange(secure, "GET /one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert.match(answer, /hello alice via https to \/one$/);
  });

  it("keeps a TLS stream open for many requests", async () => {
    const secure = tls.connect({ socket: await open(), servername: HOST, ca: ca.caCertPem() });
    await new Promise((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
    for (const path of ["/a", "/b", "/c"]) {
      const answer = readUntil(secure, `to ${path}`);
      secure.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      assert.match(await answer, /hello alice via https to \/[abc]$/);
    }
    secure.destroy();
    assert.deepEqual(seen.slice(-3), ["/a", "/b", "/c"]);
  });
});
