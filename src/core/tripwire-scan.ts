/**
 * The tripwire's matching (tripwire.ts decides what is looked for and where): one regex over
 * every form of every needle, and the streaming scan of a request body, which holds back only
 * a possible prefix of a needle at the end of a piece, never the body whole.
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

/** The needles of one moment: every form of every value, one regex over them. */
export class Matcher {
  readonly regex: RegExp | null;
  readonly longest: number;
  private readonly owners: Map<string, Needle>;
  private readonly forms: readonly string[];
  private readonly firsts: ReadonlySet<number>;
  /** Hosts of a connection's `--base-url` (a self-hosted instance): its provider's too. */
  readonly baseHosts: ReadonlyMap<string, ReadonlySet<string>>;

  constructor(owners: Map<string, Needle>, baseHosts: ReadonlyMap<string, ReadonlySet<string>>) {
    this.owners = owners;
    this.baseHosts = baseHosts;
    const forms = [...owners.keys()].sort((a, b) => b.length - a.length);
    this.longest = forms[0]?.length ?? 0;
    this.forms = forms;
    this.firsts = new Set(forms.map((f) => f.charCodeAt(0)));
    this.regex = forms.length === 0 ? null : new RegExp(forms.map((f) => f.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")).join("|"), "g");
  }

  /**
   * Where the held-back end of `text` starts: the first of its last (longest - 1) positions
   * whose rest is a proper prefix of a needle, else `text.length` (nothing to hold). Holding
   * only a real prefix lets a streamed body (a gRPC or HTTP/2 ping-pong) flow message by
   * message instead of waiting for bytes that would push an innocent tail out.
   */
  heldFrom(text: string): number {
    for (let p = Math.max(0, text.length - this.longest + 1); p < text.length; p += 1) {
      if (!this.firsts.has(text.charCodeAt(p))) continue;
      const rest = text.slice(p);
      if (this.forms.some((form) => form.length > rest.length && form.startsWith(rest))) return p;
    }
    return text.length;
  }

  /** The first needle in `text` (latin1) whose provider is not allowed here; `end` stops matches starting later. */
  find(text: string, allowed: (provider: string) => boolean, end = text.length): { needle: Needle; index: number } | null {
    const regex = this.regex;
    if (regex === null) return null;
    regex.lastIndex = 0;
    for (let match = regex.exec(text); match !== null && match.index < end; match = regex.exec(text)) {
      const needle = this.owners.get(match[0]);
      if (needle !== undefined && !allowed(needle.provider)) return { needle, index: match.index };
    }
    return null;
  }
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
    return this.matcher.regex === null;
  }

  /** True while bytes are held back (the end of the last piece could begin a needle). */
  get holding(): boolean {
    return this.tail !== null;
  }

  push(chunk: Buffer): Buffer | null {
    if (this.hit !== null) return null;
    if (this.scanned >= MAX_BODY_SCAN || this.matcher.regex === null) return chunk;
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
