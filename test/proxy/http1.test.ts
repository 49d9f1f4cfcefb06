// The relay's HTTP/1.1 framing (src/proxy/http1.ts): what it accepts, what it refuses with which
// status, and where bodies end. Strictness here is what keeps the agent, the proxy and the
// upstream agreeing on message boundaries (request smuggling).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ProxyReply } from "../../src/proxy/forward.ts";
import { ChunkedScanner, findHeadEnd, parseRequestHead, parseResponseHead, requestFraming, responseFraming } from "../../src/proxy/http1.ts";

/** Asserts that `run` throws a ProxyReply with `status`. */
function rejects(run: () => unknown, status: number, label: string): void {
  assert.throws(run, (error: unknown) => error instanceof ProxyReply && error.status === status, label);
}

describe("parseRequestHead", () => {
  it("parses the request line and keeps header order, case and repeats", () => {
    const head = parseRequestHead("POST /a/b?c=1 HTTP/1.1\r\nHost: x.test\r\nX-Pad: \t spaced \t\r\nEmpty:\r\nX-Pad: two\r\nTab: a\tb");
    assert.deepEqual(head, {
      method: "POST",
      target: "/a/b?c=1",
      minor: 1,
      rawHeaders: ["Host", "x.test", "X-Pad", "spaced", "Empty", "", "X-Pad", "two", "Tab", "a\tb"],
    });
    assert.equal(parseRequestHead("GET http://x.test/ HTTP/1.0").minor, 0);
    assert.equal(parseRequestHead("GET http://x.test/ HTTP/1.0").target, "http://x.test/");
    assert.deepEqual(parseRequestHead("OPTIONS * HTTP/1.1").rawHeaders, []);
  });

  it("refuses malformed heads with 400", () => {
    const bad: Record<string, string> = {
      "bare LF in the request line": "GET / HTTP/1.1\nHost: x",
      "bare LF in a header": "GET / HTTP/1.1\r\nA: b\nHost: x",
      "obs-fold": "GET / HTTP/1.1\r\nA: b\r\n  folded",
      "obs-fold with a colon": "GET / HTTP/1.1\r\nA: b\r\n\tC: d",
      "space before the colon": "GET / HTTP/1.1\r\nHost : x",
      "no colon": "GET / HTTP/1.1\r\nHost x",
      "empty name": "GET / HTTP/1.1\r\n: x",
      "NUL in a value": "GET / HTTP/1.1\r\nA: b\x00c",
      "control character in a value": "GET / HTTP/1.1\r\nA: b\x01c",
      "DEL in a value": "GET / HTTP/1.1\r\nA: b\x7f",
      "bare CR in a value": "GET / HTTP/1.1\r\nA: b\rc",
      "two spaces": "GET  / HTTP/1.1",
      "no version": "GET /",
      "trailing text": "GET / HTTP/1.1 x",
      "lower-case version": "GET / http/1.1",
      "space in the target": "GET /a b HTTP/1.1",
      "method not a token": "G(T / HTTP/1.1",
      "empty": "",
    };
    for (const [label, text] of Object.entries(bad)) rejects(() => parseRequestHead(text), 400, label);
  });

  // Each found by the differential test against llhttp (test/proxy/http1-differential.test.ts).
  it("refuses targets llhttp refuses or reads otherwise, and the HTTP/2 preface, with 400", () => {
    const bad: Record<string, string> = {
      "authority form without CONNECT": "GET x.test:443 HTTP/1.1",
      "raw UTF-8 in the path": "GET /caf\xc3\xa9 HTTP/1.1",
      "a quote in the authority": 'GET http://"x.test/ HTTP/1.1',
      "a fragment after the authority": "GET http://x.test#a HTTP/1.1",
      "a fragment in the path": "GET /a#b HTTP/1.1",
      "the HTTP/2 preface": "PRI * HTTP/1.1",
    };
    for (const [label, text] of Object.entries(bad)) rejects(() => parseRequestHead(text), 400, label);
    assert.equal(parseRequestHead("CONNECT x.test:443 HTTP/1.1").target, "x.test:443");
    for (const target of ["http://x.test", "http://[::1]:8/a?b", "https://u@x.test?q", "/\"<>{}|\\^`", "*"]) assert.equal(parseRequestHead(`GET ${target} HTTP/1.1`).target, target);
  });

  it("refuses a tab in Content-Length or Transfer-Encoding (llhttp reads a response's chunked-then-tab as until close)", () => {
    for (const line of ["Content-Length: 5\t", "Content-Length:\t5", "Transfer-Encoding: chunked\t", "transfer-encoding:\tchunked"]) {
      rejects(() => parseRequestHead(`GET / HTTP/1.1\r\n${line}`), 400, JSON.stringify(line));
      rejects(() => parseResponseHead(`HTTP/1.1 200 OK\r\n${line}`), 502, JSON.stringify(line));
    }
    assert.deepEqual(parseRequestHead("GET / HTTP/1.1\r\nX-A:\ta\t\r\nContent-Length: 5 ").rawHeaders, ["X-A", "a", "Content-Length", "5"]);
  });

  it("refuses other HTTP versions with 505", () => {
    for (const version of ["2.0", "2", "3", "0.9"]) rejects(() => parseRequestHead(`GET / HTTP/${version}`), 505, version);
  });
});

describe("findHeadEnd", () => {
  const find = (text: string, start = 0, from = 0, status = 400): number => findHeadEnd(Buffer.from(text, "latin1"), start, from, status);

  it("finds the blank line, or -1 while the head is incomplete", () => {
    assert.equal(find("GET / HTTP/1.1\r\nHost: x\r\n\r\nbody\n\rafter"), 23);
    assert.equal(find("\r\nGET / HTTP/1.1\r\n\r\n", 2), 16);
    assert.equal(find("GET / HTTP/1.1\r\nHost: x\r\n"), -1);
    // A CR that ends the data so far may still be followed by its LF.
    assert.equal(find("GET / HTTP/1.1\r"), -1);
  });

  it("refuses a bare LF or bare CR anywhere before the blank line, with the status given", () => {
    for (const text of ["GET / HTTP/1.1\nHost: x\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\n\n", "GET / HTTP/1.1\r\nHost: x\r\n\n", "\nGET", "GET / HTTP/1.1\n"]) {
      rejects(() => find(text), 400, JSON.stringify(text));
      rejects(() => find(text, 0, 0, 502), 502, JSON.stringify(text));
    }
    for (const text of ["GET / HTTP/1.1\rHost: x\r\n\r\n", "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", "GET\r\r\n\r\n"]) rejects(() => find(text), 400, JSON.stringify(text));
    // An LF right at `start` (after skipped empty lines) is bare, whatever precedes it.
    rejects(() => find("\r\n\nGET / HTTP/1.1\r\n\r\n", 2), 400, "LF at start");
  });

  it("checks only from `from` on, less the byte before it", () => {
    // Bytes before `from` were checked by an earlier call: a resumed scan does not re-read them.
    assert.equal(find("GET\n / HTTP/1.1\r\n\r\n", 0, 6), 15);
    rejects(() => find("GET / HTTP/1.1\r\nA: b\rc", 0, 21), 400, "CR just before from");
  });
});

describe("parseResponseHead", () => {
  it("parses status lines with and without a reason", () => {
    assert.deepEqual(parseResponseHead("HTTP/1.1 201 Created\r\nContent-Length: 0"), { status: 201, minor: 1, rawHeaders: ["Content-Length", "0"] });
    assert.equal(parseResponseHead("HTTP/1.0 204").status, 204);
    assert.equal(parseResponseHead("HTTP/1.0 204").minor, 0);
    assert.equal(parseResponseHead("HTTP/1.1 404 ").status, 404);
    assert.equal(parseResponseHead("HTTP/1.1 200 Fine\tand dandy").status, 200);
  });

  it("refuses malformed response heads with 502", () => {
    for (const text of ["HTTP/1.1 20 OK", "HTTP/1.1 099 x", "HTTP/2 200", "HTTP/1.1  200 OK", "ICY 200 OK", "HTTP/1.1 200 OK\r\nA : b", "HTTP/1.1 200 OK\r\nA: b\r\n c", "HTTP/1.1 200 OK\r\nA: \x01"]) {
      rejects(() => parseResponseHead(text), 502, JSON.stringify(text));
    }
  });
});

describe("requestFraming", () => {
  it("reads the body length from Content-Length or chunked", () => {
    assert.deepEqual(requestFraming(["Host", "x"]), { kind: "length", length: 0 });
    assert.deepEqual(requestFraming(["Content-Length", "12"]), { kind: "length", length: 12 });
    assert.deepEqual(requestFraming(["Transfer-Encoding", "chunked"]), { kind: "chunked" });
    assert.deepEqual(requestFraming(["transfer-encoding", "Chunked"]), { kind: "chunked" });
  });

  it("refuses ambiguous lengths with 400", () => {
    rejects(() => requestFraming(["Content-Length", "3", "Transfer-Encoding", "chunked"]), 400, "CL + TE");
    rejects(() => requestFraming(["Transfer-Encoding", "chunked", "Content-Length", "3"]), 400, "TE + CL");
    rejects(() => requestFraming(["Content-Length", "3", "Content-Length", "4"]), 400, "conflicting CL");
    // Found by the differential test: llhttp refuses identical repeats too (HPE_UNEXPECTED_CONTENT_LENGTH).
    rejects(() => requestFraming(["Content-Length", "7", "content-length", "7"]), 400, "repeated CL");
    rejects(() => responseFraming("GET", 200, ["Content-Length", "7", "Content-Length", "7"]), 502, "repeated CL in a response");
    for (const value of ["", "+3", "-1", "3a", "0x10", "3, 3", " 3", "1234567890123456"]) {
      rejects(() => requestFraming(["Content-Length", value]), 400, `CL ${JSON.stringify(value)}`);
    }
  });

  it("refuses codings other than a sole chunked with 501", () => {
    for (const codings of [["gzip, chunked"], ["gzip", "chunked"], ["identity"]]) {
      const raw = codings.flatMap((value) => ["Transfer-Encoding", value]);
      rejects(() => requestFraming(raw), 501, codings.join(" | "));
    }
  });
});

describe("responseFraming", () => {
  const length = ["Content-Length", "10"];
  it("has no body for HEAD, 1xx, 204 and 304", () => {
    assert.deepEqual(responseFraming("HEAD", 200, length), { kind: "length", length: 0 });
    assert.deepEqual(responseFraming("HEAD", 200, ["Transfer-Encoding", "chunked"]), { kind: "length", length: 0 });
    for (const status of [100, 101, 103, 204, 304]) assert.deepEqual(responseFraming("GET", status, length), { kind: "length", length: 0 }, String(status));
  });

  it("reads chunked, a length, or until close", () => {
    assert.deepEqual(responseFraming("GET", 200, ["Transfer-Encoding", "chunked"]), { kind: "chunked" });
    assert.deepEqual(responseFraming("POST", 201, length), { kind: "length", length: 10 });
    assert.deepEqual(responseFraming("GET", 200, []), { kind: "close" });
    // RFC 9112 section 6.3: a response whose last coding is not chunked runs until close.
    assert.deepEqual(responseFraming("GET", 200, ["Transfer-Encoding", "gzip"]), { kind: "close" });
  });

  it("reads chunked when it is a response's last coding, and refuses chunked anywhere else", () => {
    assert.deepEqual(responseFraming("GET", 200, ["Transfer-Encoding", "gzip, chunked"]), { kind: "chunked" });
    assert.deepEqual(responseFraming("GET", 200, ["Transfer-Encoding", "gzip", "Transfer-Encoding", "chunked"]), { kind: "chunked" });
    for (const codings of ["chunked, gzip", "chunked, chunked", "chunked,", ",chunked", "gzip,,chunked"]) {
      rejects(() => responseFraming("GET", 200, ["Transfer-Encoding", codings]), 502, codings);
      rejects(() => requestFraming(["Transfer-Encoding", codings]), 400, codings);
    }
  });

  it("refuses CL with TE even where the response has no body (llhttp refuses the whole response)", () => {
    const both = ["Content-Length", "0", "Transfer-Encoding", "chunked"];
    for (const [method, status] of [["HEAD", 200], ["GET", 204], ["GET", 304], ["GET", 100]] as const) rejects(() => responseFraming(method, status, both), 502, `${method} ${status}`);
  });

  it("refuses ambiguous response lengths with 502", () => {
    rejects(() => responseFraming("GET", 200, ["Content-Length", "1", "Transfer-Encoding", "chunked"]), 502, "CL + TE");
    rejects(() => responseFraming("GET", 200, ["Content-Length", "1", "Content-Length", "2"]), 502, "conflicting CL");
  });
});

/** Feeds `text` to a new scanner whole, then byte by byte; both must agree. Returns the count. */
function scan(text: string, status = 400): number {
  const data = Buffer.from(text, "latin1");
  const whole = new ChunkedScanner(status);
  const taken = whole.feed(data);
  const single = new ChunkedScanner(status);
  let taken1 = 0;
  for (let i = 0; i < data.length; i += 1) taken1 += single.feed(data.subarray(i, i + 1));
  assert.equal(taken1, taken, "byte by byte");
  assert.equal(single.done, whole.done);
  return whole.done ? taken : -1;
}

describe("ChunkedScanner", () => {
  const body = "5\r\nhello\r\nA\r\n0123456789\r\n0\r\n\r\n";

  it("finds the end of a chunked body fed whole or byte by byte", () => {
    assert.equal(scan(body), body.length);
    assert.equal(scan("0\r\n\r\n"), 5);
    const padded = "0005\r\nhello\r\nf\r\n0123456789abcde\r\n0\r\n\r\n";
    assert.equal(scan(padded), padded.length);
  });

  it("accepts chunk extensions and trailers", () => {
    const extended = '5;name=value;flag\r\nhello\r\n3;q="a b"\r\nabc\r\n0;last\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n';
    assert.equal(scan(extended), extended.length);
  });

  it("counts only the body's bytes when more follow", () => {
    const next = "GET /next HTTP/1.1\r\n\r\n";
    assert.equal(scan(body + next), body.length);
    const scanner = new ChunkedScanner(400);
    const data = Buffer.from(`xx${body}${next}`, "latin1");
    assert.equal(scanner.feed(data, 2), body.length);
    assert.equal(scanner.feed(data, 2 + body.length), 0);
  });

  it("continues across feeds that split a size line or the data", () => {
    const scanner = new ChunkedScanner(400);
    assert.equal(scanner.feed(Buffer.from("1")), 1);
    assert.equal(scanner.feed(Buffer.from("0\r\n0123456")), 10);
    assert.equal(scanner.feed(Buffer.from("789abcdef\r")), 10);
    assert.equal(scanner.done, false);
    assert.equal(scanner.feed(Buffer.from("\n0\r\n\r\nrest")), 6);
    assert.equal(scanner.done, true);
  });

  it("refuses malformed framing with its status", () => {
    const bad: Record<string, string> = {
      "bad hex": "5g\r\nhello\r\n0\r\n\r\n",
      "no size": "\r\nhello\r\n0\r\n\r\n",
      "space after the size": "5 \r\nhello\r\n0\r\n\r\n",
      "missing CRLF after data": "5\r\nhelloX\r\n0\r\n\r\n",
      "bare LF after data": "5\r\nhello\n0\r\n\r\n",
      "bare LF after the size": "5\nhello\r\n0\r\n\r\n",
      "bare CR after the size": "5\rhello\r\n0\r\n\r\n",
      "bare LF in trailers": "0\r\nX: 1\n\r\n",
      "control character in an extension": "5;a\x01\r\nhello\r\n0\r\n\r\n",
      "oversized size": "1000000000000\r\n",
      "overlong extension": `5;${"x".repeat(5000)}\r\nhello\r\n0\r\n\r\n`,
      "negative size": "-5\r\nhello\r\n0\r\n\r\n",
      // Found by the differential test against llhttp: what it refuses, an upstream may.
      "space before an extension's name": "1; a\r\nx\r\n0\r\n\r\n",
      "extension without a name": "1;\r\nx\r\n0\r\n\r\n",
      "empty extension between two": "1;a;;b\r\nx\r\n0\r\n\r\n",
      "space around '='": "1;a = b\r\nx\r\n0\r\n\r\n",
      "unterminated quoted extension": '1;a="b\r\nx\r\n0\r\n\r\n',
      "space before a trailer's colon": "0\r\nT : 1\r\n\r\n",
      "folded trailer": "0\r\n T: 1\r\n\r\n",
      "trailer without a colon": "0\r\nT\r\n\r\n",
      "trailer without a name": "0\r\n: 1\r\n\r\n",
      "control character in a trailer": "0\r\nT: \x01\r\n\r\n",
    };
    for (const [label, text] of Object.entries(bad)) {
      for (const status of [400, 502]) rejects(() => new ChunkedScanner(status).feed(Buffer.from(text, "latin1")), status, label);
      // Byte by byte too: the scanner must not depend on how the bytes were split.
      const scanner = new ChunkedScanner(400);
      rejects(() => { for (let i = 0; i < text.length; i += 1) scanner.feed(Buffer.from(text[i] ?? "", "latin1")); }, 400, `${label}, byte by byte`);
    }
  });
});
