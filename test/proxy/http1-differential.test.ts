// src/proxy/http1.ts held against Node's own HTTP/1.1 parser (llhttp, through a real node:http
// server and client on loopback), on generated and mutated request and response heads: for each
// input, authsome and Node agree on the meaning of every message authsome accepts (method, target,
// status, headers, body framing and length, pipelined messages in order), or authsome rejects.
// A disagreement is where request smuggling lives: the relay forwards bytes it framed one way to an
// upstream that may frame them the other.
//
// Seeded and bounded: AUTHSOME_FC_SEED and AUTHSOME_FC_RUNS override the fixed seed and the run
// count; fast-check prints the seed and the shrunk counter-example on failure.
//
// Deno: its node:http is its own code, but it parses with llhttp too (HPE_* codes; the response
// property passes there on 2000-case runs), so the response differential runs on both runtimes.
// Deno's server aborts the requests of a connection whose client half-closes (ECONNRESET
// "aborted"), and the half-close is how this test marks the end of its input: the request
// differential runs on Node only. Both runtimes check authsome's own invariants on the same
// generated requests (last suite): the reading does not depend on how the bytes are split, and
// a head as the relay writes it upstream is read back to the same meaning.
import assert from "node:assert/strict";
import { METHODS } from "node:http";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { ProxyReply } from "../../src/proxy/forward.ts";
import { ChunkedScanner, findHeadEnd, MAX_HEAD_BYTES, parseRequestHead, parseResponseHead, requestFraming, responseFraming, type BodyFraming } from "../../src/proxy/http1.ts";
import { startNodeRequestParser, startNodeResponseParser, type NodeMessage, type NodeOutcome, type NodeRequestParser, type NodeResponseParser } from "../helpers/node-http-peers.ts";

const SEED = Number(process.env.AUTHSOME_FC_SEED ?? 20261201);
const RUNS = Number(process.env.AUTHSOME_FC_RUNS ?? 1000);
const isDeno = "Deno" in globalThis;

// ---- authsome's reading of a connection, as relay.ts reads it

/** What authsome made of a connection: the messages it accepted, and how it stopped. */
interface AuthsomeOutcome {
  messages: NodeMessage[];
  interim: number[];
  /** clean: all bytes used; incomplete: waiting for more; rejected: an error answer; closed: relay ends after the last message. */
  end: "clean" | "incomplete" | "rejected" | "closed";
  status?: number;
}

/** The body bytes after `at` per `framing`, decoded, and where the message ends; null if incomplete. */
function _body(input: Buffer, at: number, framing: BodyFraming, status: number): { body: string; next: number } | null {
  if (framing.kind === "close") return { body: input.toString("latin1", at), next: input.length };
  if (framing.kind === "length") return input.length - at < framing.length ? null : { body: input.toString("latin1", at, at + framing.length), next: at + framing.length };
  const scanner = new ChunkedScanner(status);
  const taken = scanner.feed(input, at);
  return scanner.done ? { body: dechunk(input.toString("latin1", at, at + taken)), next: at + taken } : null;
}

/** The data of a chunked body the scanner accepted (so strictly framed: no checks needed here). */
function dechunk(raw: string): string {
  let data = "";
  for (let at = 0; ; ) {
    const eol = raw.indexOf("\r\n", at);
    const size = Number.parseInt(raw.slice(at, eol).split(";")[0] ?? "", 16);
    if (size === 0) return data;
    data += raw.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

const _connectionHas = (raw: readonly string[], token: string): boolean =>
  raw.some((value, i) => i % 2 === 1 && raw[i - 1]?.toLowerCase() === "connection" && value.split(",").some((t) => t.trim().toLowerCase() === token));

/** Reads requests from `input` as the relay does; stops where the relay would answer or wait. */
function authsomeRequests(input: Buffer): AuthsomeOutcome {
  const messages: NodeMessage[] = [];
  const stop = (end: AuthsomeOutcome["end"], status?: number): AuthsomeOutcome => ({ messages, interim: [], end, status });
  try {
    for (let at = 0; ; ) {
      let start = at;
      while (input[start] === 0x0d && input[start + 1] === 0x0a) start += 2;
      if (start >= input.length) return stop("clean");
      const end = findHeadEnd(input, start, start, 400);
      if (end < 0 || end - start > MAX_HEAD_BYTES) return input.length - start > MAX_HEAD_BYTES ? stop("rejected", 431) : stop("incomplete");
      const head = parseRequestHead(input.toString("latin1", start, end));
      if (head.method === "CONNECT") return stop("rejected", 405);
      const body = _body(input, end + 4, requestFraming(head.rawHeaders), 400);
      if (body === null) return stop("incomplete");
      messages.push({ method: head.method, target: head.target, rawHeaders: head.rawHeaders, body: body.body, complete: true });
      at = body.next;
      if (head.minor === 0 || _connectionHas(head.rawHeaders, "close") || _connectionHas(head.rawHeaders, "upgrade")) return stop("closed");
    }
  } catch (error) {
    if (error instanceof ProxyReply) return stop("rejected", error.status);
    throw error;
  }
}

/** Reads the response to `method` from `input` as the relay does (interim responses first). */
function authsomeResponse(input: Buffer, method: string): AuthsomeOutcome {
  const outcome: AuthsomeOutcome = { messages: [], interim: [], end: "incomplete" };
  try {
    for (let at = 0; ; ) {
      const end = findHeadEnd(input, at, at, 502);
      if (end < 0) return { ...outcome, ...(input.length - at > MAX_HEAD_BYTES ? { end: "rejected", status: 502 } : {}) };
      const head = parseResponseHead(input.toString("latin1", at, end));
      // The relay asks for no upgrade here: a 101 is refused.
      if (head.status === 101) return { ...outcome, end: "rejected", status: 502 };
      const framing = responseFraming(method, head.status, head.rawHeaders);
      if (head.status < 200) {
        outcome.interim.push(head.status);
        at = end + 4;
        continue;
      }
      const body = _body(input, end + 4, framing, 502);
      if (body === null) return outcome;
      outcome.messages.push({ status: head.status, rawHeaders: head.rawHeaders, body: body.body, complete: true });
      return { ...outcome, end: body.next === input.length ? "clean" : "closed" };
    }
  } catch (error) {
    if (error instanceof ProxyReply) return { ...outcome, end: "rejected", status: error.status };
    throw error;
  }
}

// ---- the comparison

/**
 * Where authsome accepts what Node refuses, on purpose: extension methods. RFC 9110 section 9.1
 * makes a method any token, llhttp knows a fixed list; the method plays no part in request framing
 * (CONNECT, the one that does, is refused), so a Node upstream refuses such a request whole rather
 * than framing it differently.
 */
function _deliberate(message: NodeMessage, node: NodeOutcome): boolean {
  return node.error === "HPE_INVALID_METHOD" && !METHODS.includes(message.method ?? "");
}

/** The first disagreement between the two readings, or null when they agree (or authsome rejects). */
function disagreement(ours: AuthsomeOutcome, node: NodeOutcome): string | null {
  for (const [i, mine] of ours.messages.entries()) {
    const theirs = node.messages[i];
    if (theirs === undefined || !theirs.complete) {
      if (_deliberate(mine, node)) return null;
      return `message ${i}: authsome accepted it, Node ${node.error ?? "did not complete it"}`;
    }
    for (const key of ["method", "target", "status", "rawHeaders", "body"] as const) {
      const a = JSON.stringify(mine[key]);
      const b = JSON.stringify(theirs[key]);
      if (a !== b) return `message ${i}: ${key} is ${a} for authsome, ${b} for Node`;
    }
  }
  if (JSON.stringify(ours.interim) !== JSON.stringify(node.interim) && ours.messages.length > 0) return `interim ${JSON.stringify(ours.interim)} vs ${JSON.stringify(node.interim)}`;
  if (ours.end === "clean" && (node.error !== undefined || node.messages.length !== ours.messages.length)) {
    return `authsome read ${ours.messages.length} message(s) and the end cleanly; Node read ${node.messages.length}${node.error === undefined ? "" : `, then ${node.error}`}`;
  }
  return null;
}

// ---- generators: half the inputs valid (their meanings get compared), half with odd bytes
//
// `odd` arbitraries draw from the full lists; the clean ones from the first few entries (valid
// spellings), with no mutation. Without the clean half, nearly every input is refused by both
// parsers and meanings are seldom compared (measured: 1% of odd-only requests were accepted).

/** The first `clean` entries are valid spellings; the rest are odd. */
const pick = <T>(odd: boolean, clean: number, values: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...(odd ? values : values.slice(0, Math.max(clean, 1))));

const ODD = ["\x00", "\t", " ", "\r", "\n", "\r\n", "\x7f", "\x80", "\xff", ":", ";", ",", "\x0b", "\x0c", '"', "#", "?", "\\", "\x01", "  "];
const VISIBLE = [..."abcXYZ019-_.~!$&'()*+,;=:@/?%", " "];
const tokenArb = fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,12}$/);
const textArb = (odd: boolean, max: number) =>
  fc.array(odd ? fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...VISIBLE) }, { weight: 1, arbitrary: fc.constantFrom(...ODD) }) : fc.constantFrom(...VISIBLE), { maxLength: max }).map((chars) => chars.join(""));

const METHOD_NAMES = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PURGE", "MKCOL", "PRI", "get", "CONNECT"];
const methodArb = (odd: boolean) => (odd ? fc.oneof({ weight: 8, arbitrary: pick(odd, 9, METHOD_NAMES) }, { weight: 1, arbitrary: tokenArb }) : pick(odd, 9, METHOD_NAMES));
const TARGETS = ["/", "*", "/a/b?c=d", "http://x.test/a?b=c", "https://x.test:8443/", "/a%20b", "//x", "/?", "http://[::1]/", "/#frag", "x.test:443", "http://x.test#a", 'http://"x/', "/caf\xe9"];
const targetArb = (odd: boolean) =>
  fc.oneof(
    { weight: 4, arbitrary: pick(odd, 9, TARGETS) },
    { weight: 2, arbitrary: fc.stringMatching(/^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]{0,20}$/) },
    { weight: odd ? 1 : 0, arbitrary: textArb(true, 12).map((text) => `/${text}`) },
  );
const VERSIONS = ["HTTP/1.1", "HTTP/1.1", "HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "http/1.1", "HTTP/1.10", "HTTP/1", "HTTP/0.9", "HTTP/1.2", " HTTP/1.1", "HTTP/1.1 "];
const NAMES = ["Host", "Accept", "X-A", "User-Agent", "Trailer", "TE", "Expect-CT", "Cookie"];
const nameArb = (odd: boolean) => fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...NAMES) }, { weight: 6, arbitrary: tokenArb }, { weight: odd ? 1 : 0, arbitrary: textArb(true, 6) });
const SPECIAL = ["Connection: keep-alive", "Connection: close", "Connection: x, close", "Expect: 100-continue", "Host: x.test:80", "X-Obs: caf\xe9", "X-Long: " + "v".repeat(20_000), " folded", "\tfolded: x", "X-A : b", "X-A\t: b", "NoColon", ": empty"];
const headerArb = (odd: boolean) =>
  fc.oneof(
    { weight: 1, arbitrary: pick(odd, 7, SPECIAL) },
    { weight: 20, arbitrary: fc.tuple(nameArb(odd), textArb(odd, 16)).map(([name, value]) => `${name}: ${value}`) },
    { weight: 3, arbitrary: fc.tuple(nameArb(odd), textArb(odd, 8)).map(([name, value]) => `${name}:${value}`) },
  );

const CL_VALUES = ["0", "3", "5", "12", "05", " 5", "5 ", "+5", "5,5", "5, 5", "-1", "0x5", "", "99999999999999999999", "5\t"];
const TE_VALUES = ["chunked", "Chunked", "CHUNKED", " chunked", "chunked ", "chunked,", ",chunked", "gzip, chunked", "chunked, gzip", "identity", "xchunked", "chunked\t", "chunked, chunked"];
/** The framing headers of a message: none, Content-Length, Transfer-Encoding, or the ambiguous pairs. */
const framingArb = (odd: boolean) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant<string[]>([]) },
    { weight: 4, arbitrary: pick(odd, 7, CL_VALUES).map((value) => [`Content-Length: ${value}`]) },
    { weight: 4, arbitrary: pick(odd, 8, TE_VALUES).map((value) => [`Transfer-Encoding: ${value}`]) },
    { weight: odd ? 1 : 0, arbitrary: fc.tuple(pick(odd, 0, CL_VALUES), pick(odd, 0, CL_VALUES)).map(([a, b]) => [`Content-Length: ${a}`, `content-length: ${b}`]) },
    { weight: odd ? 1 : 0, arbitrary: fc.tuple(pick(odd, 0, CL_VALUES), pick(odd, 0, TE_VALUES)).map(([cl, te]) => [`Content-Length: ${cl}`, `Transfer-Encoding: ${te}`]) },
    { weight: odd ? 1 : 0, arbitrary: fc.tuple(pick(odd, 0, TE_VALUES), pick(odd, 0, TE_VALUES)).map(([a, b]) => [`Transfer-Encoding: ${a}`, `Transfer-Encoding: ${b}`]) },
  );

const EXTENSIONS = ["", ";a=b", ';q="x y"', ";flag", ";a=b;c", ";", "; a", ";a\x01", ";a = b", ';a="b'];
const TRAILERS = ["", "T: 1\r\n", "T: 1\r\nU:2\r\n", "T : 1\r\n", " T: 1\r\n", "T\r\n", "T: \x01\r\n"];
const SIZES = ["", "0x", "+", "-", " ", "\t", "ffffffffffffffff", "1_"];
/** A chunked body: chunks with size spellings, extensions and trailers, sometimes off by a byte. */
const chunkedArb = (odd: boolean) =>
  fc
    .record({
      chunks: fc.array(fc.record({ data: fc.string({ minLength: 1, maxLength: 12 }), upper: fc.boolean(), zeros: fc.nat(2), ext: pick(odd, 5, EXTENSIONS) }), { maxLength: 3 }),
      lastExt: fc.constantFrom("", ";last"),
      trailers: pick(odd, 3, TRAILERS),
      skew: odd ? fc.constantFrom(0, 0, 0, 1, -1) : fc.constant(0),
      size: odd ? fc.constantFrom("", "", "", ...SIZES) : fc.constant(""),
    })
    .map(({ chunks, lastExt, trailers, skew, size }) => {
      let body = "";
      for (const chunk of chunks) {
        // `size` replaces the spelling of a chunk size now and then: a prefix, or a whole odd value.
        const hex = size.length > 2 ? size : size + (chunk.data.length + skew).toString(16);
        body += `${"0".repeat(chunk.zeros)}${chunk.upper ? hex.toUpperCase() : hex}${chunk.ext}\r\n${chunk.data}\r\n`;
      }
      return `${body}0${lastExt}\r\n${trailers}\r\n`;
    });

/** One byte-level mutation: insert, replace or delete at a position taken modulo the length. */
const mutationArb = fc.record({ at: fc.nat(), kind: fc.constantFrom("insert", "replace", "delete"), odd: fc.constantFrom(...ODD) });
function mutate(text: string, mutations: readonly { at: number; kind: string; odd: string }[]): string {
  let out = text;
  for (const { at, kind, odd } of mutations) {
    const i = at % (out.length + 1);
    out = out.slice(0, i) + (kind === "delete" ? "" : odd) + out.slice(kind === "insert" ? i : i + 1);
  }
  return out;
}

const messageArb = (odd: boolean, startLine: fc.Arbitrary<string>) =>
  fc.record({ start: startLine, headers: fc.array(headerArb(odd), { maxLength: 4 }), framing: framingArb(odd), body: fc.string({ maxLength: 12 }), chunked: chunkedArb(odd), framingFirst: fc.boolean() }).map((m) => {
    const headers = m.framingFirst ? [...m.framing, ...m.headers] : [...m.headers, ...m.framing];
    const isChunked = m.framing.some((line) => /^transfer-encoding:.*chunked/i.test(line));
    const length = Number(/^content-length: *(\d+)/i.exec(m.framing.join("\n"))?.[1] ?? 0);
    const body = isChunked ? m.chunked : odd ? m.body.padEnd(Math.min(length, 12), "b") : "b".repeat(length);
    return `${m.start}\r\n${headers.map((line) => `${line}\r\n`).join("")}\r\n${body}`;
  });

const requestLineArb = (odd: boolean) => fc.tuple(methodArb(odd), targetArb(odd), pick(odd, 4, VERSIONS)).map(([method, target, version]) => `${method} ${target} ${version}`);
const SEPARATORS = ["", "", "", "", "\r\n", "\r\n\r\n", "\n", " "];
/** One to four pipelined requests (some after empty lines); odd ones then get up to three mutations. */
const requestsOf = (odd: boolean) =>
  fc.tuple(fc.array(fc.tuple(pick(odd, 5, SEPARATORS), messageArb(odd, requestLineArb(odd))), { minLength: 1, maxLength: 4 }), fc.array(mutationArb, { maxLength: odd ? 3 : 0 })).map(([messages, mutations]) => mutate(messages.map(([separator, message]) => separator + message).join(""), mutations));
const requestsArb = fc.oneof(requestsOf(false), requestsOf(true));

const STATUSES = [200, 201, 204, 304, 404, 500, 299, 599, 101, 199, 600, 999];
const REASONS = [" OK", " Not Found", " ", "", " Not\tFound", " \x80ok", "\tOK", " OK\x00", " OK\x7f"];
const statusLineArb = (odd: boolean) => fc.tuple(pick(odd, 4, VERSIONS), pick(odd, 8, STATUSES), pick(odd, 5, REASONS)).map(([version, status, reason]) => `${version} ${status}${reason}`);
const INTERIM = ["", "", "HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", "HTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\n"];
/** A response (after optional interim ones) to GET or HEAD; odd ones then get up to three mutations. */
const responseOf = (odd: boolean) =>
  fc.record({ interim: pick(odd, 5, INTERIM), message: messageArb(odd, statusLineArb(odd)), method: fc.constantFrom("GET", "GET", "HEAD"), mutations: fc.array(mutationArb, { maxLength: odd ? 3 : 0 }) }).map((r) => ({ method: r.method, text: mutate(r.interim + r.message, r.mutations) }));
const responseArb = fc.oneof(responseOf(false), responseOf(true));

const bytes = (text: string): Buffer => Buffer.from(text, "latin1");
const options = { seed: SEED, numRuns: RUNS };

describe("http1.ts against Node's parser (llhttp)", () => {
  let requests: NodeRequestParser;
  let responses: NodeResponseParser;
  before(async () => {
    requests = await startNodeRequestParser();
    responses = await startNodeResponseParser();
  });
  after(async () => {
    await requests.close();
    await responses.close();
  });

  const requestSkip = isDeno ? "Deno's node:http server aborts requests on a half-close: see the header" : false;
  it(`agrees on generated and mutated requests, or rejects (${RUNS} cases, seed ${SEED})`, { timeout: 60_000, skip: requestSkip }, async () => {
    await fc.assert(
      fc.asyncProperty(requestsArb, async (text) => {
        const input = bytes(text);
        const found = disagreement(authsomeRequests(input), await requests.parse(input));
        assert.equal(found, null, `${JSON.stringify(text)}: ${found}`);
      }),
      options,
    );
  });

  it(`agrees on generated and mutated responses, or rejects (${RUNS} cases, seed ${SEED})`, { timeout: 60_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(responseArb, async ({ method, text }) => {
        const input = bytes(text);
        const found = disagreement(authsomeResponse(input, method), await responses.parse(input, method));
        assert.equal(found, null, `${method} ${JSON.stringify(text)}: ${found}`);
      }),
      options,
    );
  });
});

// ---- authsome's own invariants, on both runtimes (no peer needed)

/** The relay's incremental search for the first head end, fed `input` in pieces cut at `cuts`. */
function _headEndInPieces(input: Buffer, cuts: readonly number[]): number | string {
  let scanFrom = 0;
  const ends = [...new Set(cuts.map((cut) => cut % (input.length + 1)))].sort((a, b) => a - b).concat(input.length);
  try {
    for (const length of ends) {
      const end = findHeadEnd(input.subarray(0, length), 0, scanFrom, 400);
      if (end >= 0) return end;
      scanFrom = Math.max(0, length - 3);
    }
    return -1;
  } catch (error) {
    // Which of two faults is named first may differ; that the head is refused may not.
    return error instanceof ProxyReply ? `refused ${error.status}` : String(error);
  }
}

function _headEndWhole(input: Buffer): number | string {
  try {
    return findHeadEnd(input, 0, 0, 400);
  } catch (error) {
    return error instanceof ProxyReply ? `refused ${error.status}` : String(error);
  }
}

/** The head as the relay writes it upstream: request line, then each field as `name: value`. */
const serialise = (m: NodeMessage, minor: number): string => `${m.method} ${m.target} HTTP/1.${minor}\r\n${m.rawHeaders.map((v, i) => (i % 2 === 0 ? `${v}: ` : `${v}\r\n`)).join("")}`;

describe("http1.ts invariants on the same generated inputs", () => {
  it(`finds the same head end (or refusal) however the bytes are split (${RUNS * 2} cases)`, () => {
    fc.assert(
      fc.property(requestsArb, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const input = bytes(text);
        assert.equal(_headEndInPieces(input, cuts), _headEndWhole(input));
      }),
      { ...options, numRuns: RUNS * 2 },
    );
  });

  it(`frames a chunked body the same fed whole or in pieces (${RUNS * 2} cases)`, () => {
    fc.assert(
      fc.property(fc.oneof(chunkedArb(false), chunkedArb(true)), fc.array(mutationArb, { maxLength: 2 }), fc.array(fc.nat(), { maxLength: 6 }), (body, mutations, cuts) => {
        const input = bytes(`${mutate(body, mutations)}GET /next HTTP/1.1\r\n\r\n`);
        const run = (pieces: number[]): string => {
          const scanner = new ChunkedScanner(400);
          let taken = 0;
          try {
            for (let i = 0; i < pieces.length - 1 && !scanner.done; i += 1) taken += scanner.feed(input.subarray(pieces[i], pieces[i + 1]));
          } catch (error) {
            return error instanceof ProxyReply ? error.message : String(error);
          }
          return `${scanner.done} ${taken}`;
        };
        const pieces = [...new Set([0, ...cuts.map((cut) => cut % input.length), input.length])].sort((a, b) => a - b);
        assert.equal(run(pieces), run([0, input.length]));
      }),
      { ...options, numRuns: RUNS * 2 },
    );
  });

  it(`reads a head as the relay writes it upstream back to the same meaning (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(requestsArb, (text) => {
        for (const message of authsomeRequests(bytes(text)).messages) {
          const minor = /HTTP\/1\.0\r\n/.test(text) ? 0 : 1;
          for (const version of [minor, 1 - minor]) {
            const again = parseRequestHead(serialise(message, version).slice(0, -2));
            assert.deepEqual([again.method, again.target, again.rawHeaders], [message.method, message.target, message.rawHeaders]);
            assert.deepEqual(requestFraming(again.rawHeaders), requestFraming(message.rawHeaders));
          }
        }
      }),
      options,
    );
  });
});
