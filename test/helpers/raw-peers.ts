/**
 * Raw peers for the relay tests (test/proxy/relay.test.ts): a scripted HTTP/1.1 upstream that
 * each test can make misbehave, and an agent that writes raw bytes and records what comes back.
 */
import net from "node:net";

/** One connection the scripted upstream accepted. */
export interface UpConn {
  socket: net.Socket;
  /** Bytes received and not yet taken as a request. */
  data: string;
  /** Every byte received. */
  raw: string;
  /** Requests taken on this connection. */
  requests: number;
  closed: Promise<void>;
}

/** A raw HTTP/1.1 server whose behaviour each test sets; `heads` lists every request head taken. */
export interface ScriptedUpstream {
  port: number;
  conns: UpConn[];
  heads: string[];
  behave: (conn: UpConn) => void;
  close(): Promise<void>;
}

/** Starts the scripted upstream on 127.0.0.1; it does nothing until a test sets `behave`. */
export async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  const up: ScriptedUpstream = { port: 0, conns: [], heads: [], behave: () => undefined, close: async () => undefined };
  const server = net.createServer((socket) => {
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    const conn: UpConn = { socket, data: "", raw: "", requests: 0, closed };
    up.conns.push(conn);
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: Buffer) => {
      conn.data += chunk.toString("latin1");
      conn.raw += chunk.toString("latin1");
      up.behave(conn);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  up.port = (server.address() as net.AddressInfo).port;
  up.close = () => {
    for (const conn of up.conns) conn.socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
  return up;
}

/** Takes one complete request (head and body as received) off `conn`, or null if not all here. */
export function take(up: ScriptedUpstream, conn: UpConn): { head: string; line: string; body: string } | null {
  const end = conn.data.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const head = conn.data.slice(0, end);
  let bodyEnd = end + 4 + Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
  if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
    const last = /(?:^|\r\n)0(?:;[^\r]*)?\r\n(?:[^\r]+\r\n)*\r\n/.exec(conn.data.slice(end + 4));
    if (last === null) return null;
    bodyEnd = end + 4 + last.index + last[0].length;
  }
  if (conn.data.length < bodyEnd) return null;
  const body = conn.data.slice(end + 4, bodyEnd);
  conn.data = conn.data.slice(bodyEnd);
  conn.requests += 1;
  up.heads.push(head);
  return { head, line: head.slice(0, head.indexOf(" HTTP/")), body };
}

/** A 200 whose body names the request; HEAD gets the head only. */
export function answer(req: { line: string; body: string }, headers = ""): string {
  const body = `${req.line} body=${req.body};`;
  return `HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n${headers}\r\n${req.line.startsWith("HEAD ") ? "" : body}`;
}

/** The default behaviour: answers every complete request with {@link answer}. */
export const echo = (up: ScriptedUpstream) => (conn: UpConn): void => {
  for (let req = take(up, conn); req !== null; req = take(up, conn)) conn.socket.write(answer(req));
};

/** The agent's end of a tunnel: everything it received, and a way to wait for more. */
export interface Agent {
  socket: net.Socket;
  until(test: (text: string) => boolean): Promise<string>;
  /** Everything received, once the relay closed the connection. */
  ended: Promise<string>;
}

/** Connects to `port` and writes `request`, if given. */
export function connectAgent(port: number, request?: string): Agent {
  const socket = net.connect(port, "127.0.0.1");
  let text = "";
  let closed = false;
  const waiters = new Set<() => void>();
  const wake = (): void => waiters.forEach((waiter) => waiter());
  socket.on("data", (chunk: Buffer) => ((text += chunk.toString("latin1")), wake()));
  // A reset after the relay dropped the connection is an outcome the tests look at, not a failure.
  socket.on("error", () => undefined);
  const ended = new Promise<string>((resolve) => socket.on("close", () => ((closed = true), wake(), resolve(text))));
  if (request !== undefined) socket.write(request);
  const until = (test: (text: string) => boolean): Promise<string> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!test(text) && !closed) return;
        waiters.delete(check);
        if (test(text)) resolve(text);
        else reject(new Error(`closed after ${JSON.stringify(text)}`));
      };
      waiters.add(check);
      check();
    });
  return { socket, until, ended };
}

/** Writes `data`, resolving once it was handed to the system. */
export const writeAll = (socket: net.Socket, data: string): Promise<void> => new Promise((resolve) => socket.write(data, () => resolve()));
