/**
 * An in-process h2 client for the proxy's HTTP/2 tests: CONNECT through the proxy, TLS offering
 * `protocols` (trusting the proxy CA), then a node:http2 session on the tunnel.
 */
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";

/** One answer as the client saw it. */
export interface H2Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders | null;
  body: Buffer;
  rstCode: number;
}

/** Opens a tunnel to `host:port` through the proxy at `proxyPort` and negotiates TLS. */
export async function tunnelTls(proxyPort: number, token: string, host: string, port: number, ca: string, protocols: string[]): Promise<tls.TLSSocket> {
  const socket = net.connect(proxyPort, "127.0.0.1");
  const auth = Buffer.from(`_:${token}`).toString("base64");
  socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
  await new Promise<void>((resolve, reject) => {
    let head = "";
    const onData = (chunk: Buffer): void => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      socket.pause();
      if (head.startsWith("HTTP/1.1 200")) resolve();
      else reject(new Error(head));
    };
    socket.on("data", onData);
    socket.once("error", reject);
  });
  const secure = tls.connect({ socket, servername: host, ca, ALPNProtocols: protocols });
  await new Promise<void>((resolve, reject) => secure.once("secureConnect", () => resolve()).once("error", reject));
  return secure;
}

/** An h2 session over a tunnel through the proxy. */
export async function connectH2(proxyPort: number, token: string, host: string, port: number, ca: string): Promise<{ session: http2.ClientHttp2Session; socket: tls.TLSSocket }> {
  const socket = await tunnelTls(proxyPort, token, host, port, ca, ["h2"]);
  const session = http2.connect(`https://${host}:${port}`, { createConnection: () => socket });
  session.on("error", () => undefined);
  return { session, socket };
}

/** Sends one request on `session` and collects the whole answer (or the reset). */
export function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: Buffer | string): Promise<H2Answer> {
  return new Promise((resolve) => {
    const req = session.request({ ":method": body === undefined ? "GET" : "POST", ...headers }, { endStream: body === undefined });
    const answer: H2Answer = { status: 0, headers: {}, trailers: null, body: Buffer.alloc(0), rstCode: 0 };
    const chunks: Buffer[] = [];
    req.on("response", (h) => {
      answer.status = Number(h[":status"]);
      answer.headers = h;
    });
    req.on("trailers", (t) => (answer.trailers = t));
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("error", () => undefined);
    req.on("close", () => {
      answer.body = Buffer.concat(chunks);
      answer.rstCode = req.rstCode ?? 0;
      resolve(answer);
    });
    if (body !== undefined) req.end(body);
  });
}
