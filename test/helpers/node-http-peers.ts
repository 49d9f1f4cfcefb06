/**
 * Node's own HTTP/1.1 parser (llhttp) as a reference, through public APIs only: a node:http server
 * that records every request it parsed from raw bytes, and a node:http client that parses a raw
 * response. For the differential tests of src/proxy/http1.ts (test/proxy/http1-differential.test.ts).
 */
import http from "node:http";
import net from "node:net";

/** What Node made of one message. `body` is the decoded body (chunked framing removed), latin1. */
export interface NodeMessage {
  method?: string;
  target?: string;
  status?: number;
  rawHeaders: string[];
  body: string;
  /** The body ended as framed (not cut short by the connection closing). */
  complete: boolean;
}

/** What Node made of a whole connection: the messages in order, and the parse error that ended it. */
export interface NodeOutcome {
  messages: NodeMessage[];
  /** 1xx statuses seen before the final response (responses only). */
  interim: number[];
  /** llhttp's error code (`HPE_*`) or Node's, when parsing failed. */
  error?: string;
}

/** Heads up to this size are parsed by Node (its default, 16 KiB, is below authsome's 64 KiB). */
const MAX_HEADER_SIZE = 80 * 1024;
/** Every exchange here is loopback: 5 s means something hangs, and the case fails saying so. */
const BOUND_MS = 5_000;

function _bounded<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no outcome within ${BOUND_MS} ms`)), BOUND_MS)));
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** The request side: a node:http server on loopback, fed raw bytes one connection per case. */
export interface NodeRequestParser {
  parse(input: Buffer): Promise<NodeOutcome>;
  close(): Promise<void>;
}

/** Starts the recording node:http server. */
export async function startNodeRequestParser(): Promise<NodeRequestParser> {
  const outcomes = new Map<number, { outcome: NodeOutcome; closed: Promise<void> }>();
  // Host is required by RFC 9112 but is a policy, not framing: Node 20 enforces it, we compare framing.
  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const outcome = outcomes.get(req.socket.remotePort ?? -1)?.outcome;
    const message: NodeMessage = { method: req.method, target: req.url, rawHeaders: req.rawHeaders, body: "", complete: false };
    outcome?.messages.push(message);
    req.on("data", (chunk: Buffer) => (message.body += chunk.toString("latin1")));
    req.on("end", () => {
      message.complete = true;
      res.end();
    });
    req.on("error", () => undefined);
  };
  const server = http.createServer({ requireHostHeader: false, maxHeaderSize: MAX_HEADER_SIZE }, onRequest);
  // An Expect other than 100-continue is answered 417 unless listened for: a policy, not parsing.
  server.on("checkExpectation", onRequest);
  server.on("connection", (socket: net.Socket) => {
    const outcome: NodeOutcome = { messages: [], interim: [] };
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    outcomes.set(socket.remotePort ?? -1, { outcome, closed });
  });
  server.on("clientError", (error: NodeJS.ErrnoException, socket: net.Socket) => {
    const entry = outcomes.get(socket.remotePort ?? -1);
    if (entry !== undefined && entry.outcome.error === undefined) entry.outcome.error = error.code ?? error.message;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    async parse(input) {
      const client = net.connect(port, "127.0.0.1");
      client.on("error", () => undefined);
      client.resume();
      const clientClosed = new Promise<void>((resolve) => client.on("close", () => resolve()));
      await _bounded(new Promise<void>((resolve) => client.on("connect", resolve)), "connect");
      const local = client.localPort ?? -1;
      client.end(input);
      await _bounded(clientClosed, "node:http server");
      const entry = outcomes.get(local);
      if (entry === undefined) throw new Error("the node:http server did not see the connection");
      await _bounded(entry.closed, "node:http server socket");
      outcomes.delete(local);
      return entry.outcome;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The response side: a raw server answers each request with the bytes given; node:http parses them. */
export interface NodeResponseParser {
  parse(input: Buffer, method: string): Promise<NodeOutcome>;
  close(): Promise<void>;
}

/** Starts the raw server whose answers node:http's client parses. */
export async function startNodeResponseParser(): Promise<NodeResponseParser> {
  let answer: Buffer = Buffer.alloc(0);
  const server = net.createServer((socket) => {
    let seen = "";
    socket.on("error", () => undefined);
    socket.on("data", (chunk: Buffer) => {
      seen += chunk.toString("latin1");
      // One request per connection (agent: false): answer once its head is complete, then end.
      if (seen.includes("\r\n\r\n")) socket.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    parse(input, method) {
      answer = input;
      return _bounded(_request(port, method), "node:http client");
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function _request(port: number, method: string): Promise<NodeOutcome> {
  const outcome: NodeOutcome = { messages: [], interim: [] };
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, method, path: "/", agent: false, maxHeaderSize: MAX_HEADER_SIZE });
    req.on("information", (info) => outcome.interim.push(info.statusCode));
    req.on("response", (res) => {
      const message: NodeMessage = { status: res.statusCode, rawHeaders: res.rawHeaders, body: "", complete: false };
      outcome.messages.push(message);
      res.on("data", (chunk: Buffer) => (message.body += chunk.toString("latin1")));
      res.on("end", () => (message.complete = res.complete));
      res.on("error", (error: NodeJS.ErrnoException) => (outcome.error ??= error.code ?? error.message));
    });
    req.on("error", (error: NodeJS.ErrnoException) => (outcome.error ??= error.code ?? error.message));
    req.on("close", () => resolve(outcome));
    req.end();
  });
}
