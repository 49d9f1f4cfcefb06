/**
 * The HTTP/1.1 message framing the relay (relay.ts) needs, and nothing more: request and
 * response heads, and where a body ends (RFC 9112 sections 2-7). Strict where a lenient parser
 * would let two parties disagree on where a message ends (request smuggling): CRLF only (a bare
 * LF or CR is refused at once), no obs-fold, no whitespace before a colon, one body length,
 * chunked only as the sole coding of a request. test/proxy/http1-differential.test.ts holds it
 * against llhttp: on every generated input the two agree on the meaning, or this refuses.
 */
import { ProxyReply } from "./forward.ts";

/** Longest request or response head accepted (request line or status line plus headers). */
export const MAX_HEAD_BYTES = 64 * 1024;
/** Longest chunk-size line (size plus extensions) or trailer section accepted. */
const MAX_CHUNK_LINE = 4096;

/** A parsed request head. `rawHeaders` is Node's flat form: name, value, name, value... */
export interface RequestHead {
  method: string;
  target: string;
  /** Minor version: 1 for HTTP/1.1, 0 for HTTP/1.0. */
  minor: number;
  rawHeaders: string[];
}

/** A parsed response head. */
export interface ResponseHead {
  status: number;
  minor: number;
  rawHeaders: string[];
}

/** How the body after a head is delimited. `length` 0 means no body. */
export type BodyFraming = { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

const NO_BODY: BodyFraming = { kind: "length", length: 0 };
const CHUNKED: BodyFraming = { kind: "chunked" };
const CLOSE: BodyFraming = { kind: "close" };

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e]+) HTTP\/1\.([01])$/;
// The target in origin form, absolute form or "*" (RFC 9112 section 3.2), or authority form for
// CONNECT only. ASCII only, as llhttp: a raw UTF-8 path cannot be forwarded unchanged; an
// authority of RFC 3986 characters only (llhttp refuses others, and URL parsers differ on them);
// no fragment, which no request target has and which would leave the URL we decide on.
const TARGET = /^(?:\/[\x21\x22\x24-\x7e]*|\*|[A-Za-z][A-Za-z0-9+.-]*:\/\/[\w\-.~%!$&'()*+,;=:@[\]]*(?:[/?][\x21\x22\x24-\x7e]*)?)$/;
const AUTHORITY = /^[\w\-.~%!$&'()*+,;=:@[\]]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([\t\x20-\x7e\x80-\xff]*))?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters other than HTAB, which may not appear in a field value. */
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const DIGITS = /^\d{1,15}$/;
const FRAMING_NAME = /^(?:content-length|transfer-encoding)$/i;

const CRLF_CRLF = Buffer.from("\r\n\r\n");

/**
 * Where the head starting at `start` ends (the index of its blank line's CRLF CRLF), or -1 while
 * it is incomplete. Throws a {@link ProxyReply} with `status` for a bare LF or a bare CR before
 * that point: a head delimited by bare LFs never holds CRLF CRLF, so waiting for one would leave
 * the peer without an answer (RFC 9112 section 2.2 lets a recipient reject them; we must, as we
 * forward the head). `from` is where an earlier call stopped; the bytes before it were checked.
 */
export function findHeadEnd(data: Buffer, start: number, from: number, status: number): number {
  const end = data.indexOf(CRLF_CRLF, Math.max(start, from));
  const limit = end < 0 ? data.length : end + 2;
  // Native scans for the few line ends of a head; each must be a CRLF pair.
  for (let i = data.indexOf(0x0a, Math.max(start, from)); i >= 0 && i < limit; i = data.indexOf(0x0a, i + 1)) {
    if (i === start || data[i - 1] !== 0x0d) throw new ProxyReply(status, "bare LF in the message head");
  }
  for (let i = data.indexOf(0x0d, Math.max(start, from - 1)); i >= 0 && i < limit; i = data.indexOf(0x0d, i + 1)) {
    if (i + 1 < data.length && data[i + 1] !== 0x0a) throw new ProxyReply(status, "bare CR in the message head");
  }
  return end;
}

/** True for a header name we may write (an RFC 9110 token). */
export const isFieldName = (name: string): boolean => TOKEN.test(name);
/** True for a header value we may write (no control characters but HTAB). */
export const isFieldValue = (value: string): boolean => !BAD_VALUE.test(value);

/** Parses a request head (the text before the blank line); throws a 400/505 {@link ProxyReply}. */
export function parseRequestHead(text: string): RequestHead {
  const lines = text.split("\r\n");
  const match = REQUEST_LINE.exec(lines[0] ?? "");
  if (match === null) {
    const version = /HTTP\/(\d+(?:\.\d+)?)$/.exec(lines[0] ?? "");
    if (version !== null && !version[1]?.startsWith("1.")) throw new ProxyReply(505, `HTTP/${version[1]} is not supported; use HTTP/1.1`);
    throw new ProxyReply(400, "malformed request line");
  }
  const method = match[1] ?? "";
  const target = match[2] ?? "";
  if (!(method === "CONNECT" ? AUTHORITY : TARGET).test(target)) throw new ProxyReply(400, "malformed request target");
  // RFC 9113 section 3.4: "PRI" starts the HTTP/2 preface, which llhttp reads as such, not as a request.
  if (method === "PRI") throw new ProxyReply(400, "the HTTP/2 connection preface is not an HTTP/1.1 request");
  return { method, target, minor: Number(match[3]), rawHeaders: _fields(lines, 400) };
}

/** Parses a response head; throws a 502 {@link ProxyReply} naming what was wrong. */
export function parseResponseHead(text: string): ResponseHead {
  const lines = text.split("\r\n");
  const match = STATUS_LINE.exec(lines[0] ?? "");
  if (match === null) throw new ProxyReply(502, "the upstream sent a malformed status line");
  return { status: Number(match[2]), minor: Number(match[1]), rawHeaders: _fields(lines, 502) };
}

function _fields(lines: string[], status: number): string[] {
  const raw: string[] = [];
  for (let i = 1; i < lines.length; i += 1) {
    const line = lines[i] ?? "";
    const colon = line.indexOf(":");
    const name = colon < 0 ? "" : line.slice(0, colon);
    // Also rejects obs-fold (a line starting with whitespace) and whitespace before the colon.
    if (!TOKEN.test(name)) throw new ProxyReply(status, `malformed header line ${i}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, "");
    // llhttp reads a response's `chunked\t` as another coding (so until close): no HTAB in framing.
    if (line.includes("\t", colon) && FRAMING_NAME.test(name)) throw new ProxyReply(status, `tab in the ${name} header`);
    if (BAD_VALUE.test(value)) throw new ProxyReply(status, `control character in header ${name}`);
    raw.push(name, value);
  }
  return raw;
}

/** The framing of a request body; throws 400 on conflicting lengths, 501 on codings we cannot relay. */
export function requestFraming(rawHeaders: readonly string[]): BodyFraming {
  const framing = _framing(rawHeaders, 400);
  if (framing === null) return NO_BODY;
  if (framing === "other" || framing === "last") throw new ProxyReply(501, "only the chunked transfer coding is supported in requests");
  return framing;
}

/** The framing of a response body to a request with `method` (RFC 9112 section 6.3). */
export function responseFraming(method: string, status: number, rawHeaders: readonly string[]): BodyFraming {
  // Checked even where there is no body: a peer that refuses CL + TE refuses the whole response.
  const framing = _framing(rawHeaders, 502);
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) return NO_BODY;
  if (framing === null || framing === "other") return CLOSE;
  // A response's body is chunked whenever chunked is its last coding (the codings before it travel on).
  return framing === "last" ? CHUNKED : framing;
}

/**
 * The framing the headers declare: a length, chunked as the sole coding, "last" (chunked after
 * other codings), "other" (codings without chunked) or null (neither header). Throws `status`
 * where peers could disagree: CL with TE, a repeated CL, chunked twice or not last.
 */
function _framing(rawHeaders: readonly string[], status: number): BodyFraming | "last" | "other" | null {
  let length: string | undefined;
  let codings: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] ?? "";
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      const value = rawHeaders[i + 1] ?? "";
      // Even identical repeats are refused (RFC 9110 section 8.6 allows either): llhttp and nginx
      // refuse them, so an upstream may, and a message both ends reject cannot be read two ways.
      if (!DIGITS.test(value) || length !== undefined) throw new ProxyReply(status, "invalid or repeated Content-Length");
      length = value;
    } else if (name.length === 17 && name.toLowerCase() === "transfer-encoding") {
      codings = codings === undefined ? rawHeaders[i + 1] : `${codings},${rawHeaders[i + 1]}`;
    }
  }
  if (codings !== undefined) {
    if (length !== undefined) throw new ProxyReply(status, "both Transfer-Encoding and Content-Length");
    const list = codings.split(",").map((coding) => coding.trim().toLowerCase());
    // RFC 9110 section 5.6.1 has empty elements ignored, but llhttp reads `chunked,` as chunked
    // not last (and `,chunked` as chunked): refused, so that no peer reads them otherwise.
    if (list.includes("")) throw new ProxyReply(status, "empty element in Transfer-Encoding");
    const chunked = list.indexOf("chunked");
    if (chunked < 0) return "other";
    // RFC 9112 section 6.3: chunked anywhere but last leaves the length unknowable.
    if (chunked !== list.length - 1) throw new ProxyReply(status, "chunked is not the last transfer coding");
    return list.length === 1 ? CHUNKED : "last";
  }
  return length === undefined ? null : { kind: "length", length: Number(length) };
}

/**
 * Finds where a chunked body ends, fed the bytes as they arrive (they are relayed unchanged).
 * `feed` returns how many bytes of `data` (from `start`) belong to the body: all of them while
 * it continues, fewer once the last chunk and trailers ended. Throws a {@link ProxyReply} with
 * `errorStatus` on malformed framing.
 */
export class ChunkedScanner {
  done = false;
  private state: "size" | "ext" | "data" | "data-cr" | "data-lf" | "trailer" = "size";
  private remaining = 0;
  private digits = 0;
  private lineBytes = 0;
  private trailerLine = 0;
  private trailerColon = false;
  private quoted = false;
  /** The last byte was the `;` before an extension's name. */
  private extensionStart = false;
  private sawCr = false;

  private readonly errorStatus: number;

  constructor(errorStatus: number) {
    this.errorStatus = errorStatus;
  }

  feed(data: Buffer, start = 0): number {
    let i = start;
    while (i < data.length && !this.done) {
      if (this.state === "data") {
        const take = Math.min(this.remaining, data.length - i);
        this.remaining -= take;
        i += take;
        if (this.remaining === 0) this.state = "data-cr";
        continue;
      }
      this._byte(data[i] ?? 0);
      i += 1;
    }
    return i - start;
  }

  private _byte(byte: number): void {
    if (this.state === "data-cr" || this.state === "data-lf") {
      const expected = this.state === "data-cr" ? 0x0d : 0x0a;
      if (byte !== expected) this._fail("chunk data not followed by CRLF");
      this.state = this.state === "data-cr" ? "data-lf" : "size";
      return;
    }
    if ((this.lineBytes += 1) > MAX_CHUNK_LINE) this._fail("chunk line too long");
    if (this.sawCr) {
      if (byte !== 0x0a) this._fail("bare CR in chunk framing");
      this.sawCr = false;
      return this._lineEnd();
    }
    if (byte === 0x0d) return void (this.sawCr = true);
    if (byte === 0x0a) this._fail("bare LF in chunk framing");
    if (this.state === "trailer") return this._trailerByte(byte);
    if (this.state === "size") {
      const digit = _hex(byte);
      if (digit >= 0 && this.digits < 12) {
        this.remaining = this.remaining * 16 + digit;
        this.digits += 1;
        return;
      }
      if (byte !== 0x3b || this.digits === 0) this._fail("malformed chunk size");
      this.state = "ext";
      this.extensionStart = true;
    } else this._extensionByte(byte);
  }

  /**
   * Chunk extensions as `;name=token` or `;name="quoted"`, without the whitespace RFC 9112
   * section 7.1.1 tolerates around them: llhttp refuses it, so an upstream may.
   */
  private _extensionByte(byte: number): void {
    if (this.quoted) {
      if (byte === 0x22) this.quoted = false;
      else if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) this._fail("control character in chunk extension");
    } else if (this.extensionStart && TCHAR[byte] !== 1) this._fail("chunk extension without a name");
    else if (byte === 0x22) this.quoted = true;
    else if (TCHAR[byte] !== 1 && byte !== 0x3b && byte !== 0x3d) this._fail("malformed chunk extension");
    this.extensionStart = byte === 0x3b;
  }

  /** Trailer fields are checked as header fields are: a peer may refuse what we would pass on. */
  private _trailerByte(byte: number): void {
    if (this.trailerColon) {
      if ((byte < 0x20 && byte !== 0x09) || byte === 0x7f) this._fail("control character in a trailer");
    } else if (byte === 0x3a && this.trailerLine > 0) this.trailerColon = true;
    else if (TCHAR[byte] !== 1) this._fail("malformed trailer field");
    this.trailerLine += 1;
  }

  private _lineEnd(): void {
    if (this.state === "trailer") {
      if (this.trailerLine === 0) this.done = true;
      else if (!this.trailerColon) this._fail("malformed trailer field");
      this.trailerLine = 0;
      this.trailerColon = false;
      return;
    }
    if (this.digits === 0 || this.quoted || this.extensionStart) this._fail(this.quoted ? "unterminated quoted chunk extension" : "malformed chunk size");
    this.digits = 0;
    this.lineBytes = 0;
    if (this.remaining === 0) this.state = "trailer";
    else this.state = "data";
  }

  private _fail(what: string): never {
    throw new ProxyReply(this.errorStatus, `invalid chunked body: ${what}`);
  }
}

/** 1 for the bytes of an RFC 9110 token. */
const TCHAR = new Uint8Array(256);
for (const char of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TCHAR[char.charCodeAt(0)] = 1;

function _hex(byte: number): number {
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}
