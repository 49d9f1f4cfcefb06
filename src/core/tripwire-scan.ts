/**
 * The tripwire's matching (tripwire.ts decides what is looked for and where): every form of
 * every needle, indexed by its start, and the streaming scan of a request body, which holds
 * back only a possible prefix of a needle at the end of a piece, never the body whole.
 */
import { Buffer } from "node:buffer";

/** Body bytes scanned per request; beyond them a body passes unscanned (a stated limit). */
export const MAX_BODY_SCAN = 1024 * 1024;

/** What tripped: whose value, which kind, and where in the request. */
export interface TripwireHit {
  provider: string;
  kind: "placeholder" | "secret";
  where: "url" | "header" | "body";
}

/** Whose value a needle (one form of one secret or placeholder) is. */
export interface Needle {
  provider: string;
  kind: TripwireHit["kind"];
}

/**
 * The needles of one moment, indexed by their first {@link GRAM} characters. A run knows every
 * catalogue provider's placeholder, so ~1,000 forms: one regex alternation of them cost 10-28 us
 * over a 34-character URL (issue 16's profile, the largest item of authsome's own per stream);
 * a rolling hash of the last characters, a bitmap and a map of forms by start costs ~1 us.
 */
export class Matcher {
  /** No needle: nothing is ever found. */
  readonly empty: boolean;
  readonly longest: number;
  private readonly owners: Map<string, Needle>;
  /** Characters hashed per position: 4, or the shortest form's length if shorter. */
  private readonly gram: number;
  private readonly mask: number;
  /** Forms by the hash of their first `gram` characters, longest first (a regex alternation's order). */
  private readonly starts = new Map<number, string[]>();
  /** One bit per 16-bit fold of a start hash: most positions stop at one typed-array read. */
  private readonly bitmap = new Uint8Array(1 << 13);
  /** Every form, longest first; as one regex (for long texts) once one comes. */
  private readonly forms: readonly string[];
  private regex: RegExp | null = null;
  /** The prefixes shorter than `gram` (a held-back tail of a few characters). */
  private readonly shortPrefixes = new Set<string>();
  /** Hosts of a connection's `--base-url` (a self-hosted instance): its provider's too. */
  readonly baseHosts: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(owners: Map<string, Needle>, baseHosts: ReadonlyMap<string, ReadonlySet<string>>) {
    this.owners = owners;
    this.baseHosts = baseHosts;
    const forms = [...owners.keys()].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
    this.empty = forms.length === 0;
    this.longest = forms[0]?.length ?? 0;
    this.forms = forms;
    this.gram = Math.min(GRAM, forms.at(-1)?.length ?? GRAM);
    // 30 bits at most: the hash stays a small integer (a heap number per lookup would allocate).
    this.mask = this.gram >= 4 ? 0x3fffffff : (1 << (8 * this.gram)) - 1;
    for (const form of forms) {
      const h = this._hashAt(form, 0);
      const f = _fold(h);
      this.bitmap[f >>> 3] = (this.bitmap[f >>> 3] ?? 0) | (1 << (f & 7));
      const list = this.starts.get(h);
      if (list === undefined) this.starts.set(h, [form]);
      else list.push(form);
      for (let n = 1; n < this.gram; n += 1) this.shortPrefixes.add(form.slice(0, n));
    }
  }

  /**
   * Where the held-back end of `text` starts: the first of its last (longest - 1) positions
   * whose rest is a proper prefix of a needle, else `text.length` (nothing to hold). Holding
   * only a real prefix lets a streamed body (a gRPC or HTTP/2 ping-pong) flow message by
   * message instead of waiting for bytes that would push an innocent tail out.
   */
  heldFrom(text: string): number {
    for (let p = Math.max(0, text.length - this.longest + 1); p < text.length; p += 1) {
      const rest = text.length - p;
      if (rest < this.gram) {
        if (this.shortPrefixes.has(text.slice(p))) return p;
        continue;
      }
      const forms = this._formsAt(this._hashAt(text, p));
      if (forms !== undefined && forms.some((form) => form.length > rest && text.startsWith(form.slice(0, rest), p))) return p;
    }
    return text.length;
  }

  /**
   * The first needle in `text` (latin1) whose provider is not allowed here; `end` stops matches
   * starting later. As a global regex of the forms would: leftmost, longest there, and the
   * search goes on after an allowed match.
   */
  find(text: string, allowed: (provider: string) => boolean, end = text.length): { needle: Needle; index: number } | null {
    if (this.empty) return null;
    if (text.length >= LONG_TEXT) return this._findByRegex(text, allowed, end);
    const { gram, mask } = this;
    let h = 0;
    let next = 0;
    for (let i = 0; i < text.length; i += 1) {
      h = ((h << 8) | (text.charCodeAt(i) & 0xff)) & mask;
      const p = i - gram + 1;
      if (p < next) continue;
      if (p >= end) break;
      const forms = this._formsAt(h);
      const form = forms === undefined ? undefined : forms.find((f) => text.startsWith(f, p));
      if (form === undefined) continue;
      const needle = this.owners.get(form);
      if (needle !== undefined && !allowed(needle.provider)) return { needle, index: p };
      next = p + form.length;
    }
    return null;
  }

  /** The same search as one regex of the forms, compiled on first use (tens of ms for ~1,000 forms). */
  private _findByRegex(text: string, allowed: (provider: string) => boolean, end: number): { needle: Needle; index: number } | null {
    const regex = (this.regex ??= new RegExp(this.forms.map((f) => f.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")).join("|"), "g"));
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null && match.index < end; match = regex.exec(text)) {
      const needle = this.owners.get(match[0]);
      if (needle !== undefined && !allowed(needle.provider)) return { needle, index: match.index };
    }
    return null;
  }

  private _formsAt(h: number): string[] | undefined {
    const f = _fold(h);
    return ((this.bitmap[f >>> 3] ?? 0) & (1 << (f & 7))) === 0 ? undefined : this.starts.get(h);
  }

  /** The hash of the `gram` characters of `text` from `p` (the one {@link find} rolls). */
  private _hashAt(text: string, p: number): number {
    let h = 0;
    for (let i = p; i < p + this.gram; i += 1) h = ((h << 8) | (text.charCodeAt(i) & 0xff)) & this.mask;
    return h;
  }
}

/**
 * From this length on (a body piece) one regex goes faster than the index: V8's compiled
 * alternation runs 1-4.5 ms per MiB over ~1,000 forms, the loop here 7-8 ms.
 */
const LONG_TEXT = 16 * 1024;

/** Characters of a needle's start hashed per position (every form is at least MIN_SECRET_LENGTH, 8). */
const GRAM = 4;

function _fold(h: number): number {
  return (h ^ (h >>> 16)) & 0xffff;
}

/**
 * Scans one request body as it streams. {@link push} returns the bytes that may be sent now
 * (a possible start of a needle at the end is held back), or null once a needle tripped.
 */
export class BodyScan {
  /** What tripped, once {@link push} or {@link end} returned null. */
  hit: TripwireHit | null = null;
  private tail: Buffer | null = null;
  /** Flushed bytes still in view (the last longest - 1 of them): they may begin a needle. */
  private sent: Buffer | null = null;
  private scanned = 0;
  private readonly matcher: Matcher;
  private readonly allowed: (provider: string) => boolean;

  constructor(matcher: Matcher, allowed: (provider: string) => boolean) {
    this.matcher = matcher;
    this.allowed = allowed;
  }

  /** True when nothing is looked for (no needle): callers may skip the scan entirely. */
  get idle(): boolean {
    return this.matcher.empty;
  }

  /** True while bytes are held back (the end of the last piece could begin a needle). */
  get holding(): boolean {
    return this.tail !== null;
  }

  push(chunk: Buffer): Buffer | null {
    if (this.hit !== null) return null;
    if (this.scanned >= MAX_BODY_SCAN || this.matcher.empty) return chunk;
    const held = this.tail === null ? chunk : Buffer.concat([this.tail, chunk]);
    // Bytes flushed already (see flush) are looked at again, never sent again.
    const sent = this.sent;
    const data = sent === null ? held : Buffer.concat([sent, held]);
    this.tail = null;
    this.sent = null;
    const text = data.toString("latin1");
    const found = this.matcher.find(text, this.allowed);
    if (found !== null) return this._trip(found.needle);
    this.scanned += chunk.length;
    // A needle could start in the last (longest - 1) bytes and end in the next chunk.
    const from = sent?.length ?? 0;
    const keep = this.scanned >= MAX_BODY_SCAN ? data.length : this.matcher.heldFrom(text);
    if (keep < from) this.sent = Buffer.from(data.subarray(keep, from));
    if (Math.max(keep, from) < data.length) this.tail = Buffer.from(data.subarray(Math.max(keep, from)));
    return data.subarray(from, Math.max(keep, from));
  }

  /**
   * The held-back bytes, to send now because the sender went quiet (an HTTP/2 or gRPC stream
   * waiting for an answer would otherwise wait forever). They stay in view: if the next bytes
   * complete a needle they begin, it still trips, so a whole value never leaves; only a part
   * of one can (as a value cut in two by the agent itself always could).
   */
  flush(): Buffer {
    const tail = this.tail;
    if (tail === null || this.hit !== null) return Buffer.alloc(0);
    this.tail = null;
    const seen = this.sent === null ? tail : Buffer.concat([this.sent, tail]);
    this.sent = seen.length < this.matcher.longest ? seen : Buffer.from(seen.subarray(seen.length - this.matcher.longest + 1));
    return tail;
  }

  /** The held-back bytes at the body's end (already scanned), or null if they tripped. */
  end(): Buffer | null {
    if (this.hit !== null) return null;
    const rest = this.tail ?? Buffer.alloc(0);
    this.tail = null;
    return rest;
  }

  private _trip(needle: Needle): null {
    this.hit = { ...needle, where: "body" };
    return null;
  }
}
