/**
 * The fleet audit log (issue 14, part 4): with a shared Redis store, every machine's entries go
 * to one Redis stream per profile (`authsome#audit:<profile>`), hash-chained like the home's
 * file (each entry carries the SHA-256 of the one before; src/core/audit-chain.ts), with the
 * writer's machine id and hostname in each entry.
 *
 * No lock: an append is a compare-and-append script (redis-scripts.ts) that adds the lines only
 * if the chain's head (`authsome#audit-head:<profile>`: hash and count after the last entry) is
 * still the one they were linked to. A writer that lost the race gets the new head back and
 * relinks its lines: one more round trip, never a wait behind another machine. A stream entry
 * is written whole or not at all, so the file's crash recovery has no counterpart here.
 */
import * as v from "valibot";
import type { AuditEntry, AuditEvent, AuditTrail, AuditVerification } from "./audit.ts";
import { auditRunId, verifyAuditLines } from "./audit.ts";
import { GENESIS, lineHash, parseEntry } from "./audit-chain.ts";
import { AuthsomeError } from "./errors.ts";
import type { MachineIdentity } from "./machine.ts";
import type { RedisHandle } from "./storage/redis.ts";
import { AUDIT_APPEND_SCRIPT } from "./storage/redis-scripts.ts";

const HeadSchema = v.object({ hash: v.string(), lines: v.number() });
type Head = v.InferOutput<typeof HeadSchema>;

/** Relinks after this many lost races in a row are a store too busy to audit: an error, not a spin. */
const MAX_ATTEMPTS = 50;
const PAGE = 1_000;

/** The head as stored ("" = an empty log); a damaged head reads as a break at verify time. */
function _parseHead(raw: string): Head {
  if (raw === "") return { hash: GENESIS, lines: 0 };
  try {
    return v.parse(HeadSchema, JSON.parse(raw));
  } catch {
    return { hash: "damaged", lines: Number.MAX_SAFE_INTEGER };
  }
}

/** One profile's audit log in the shared store. */
export class FleetAuditLog implements AuditTrail {
  readonly #redis: RedisHandle;
  readonly #stream: string;
  readonly #headKey: string;
  readonly #actor: string;
  readonly #machine: MachineIdentity;
  /** The head as this process last saw it (raw, as the script compares it): saves a read per append. */
  #head: string | undefined;

  constructor(redis: RedisHandle, profile: string, actor: string, machine: MachineIdentity) {
    this.#redis = redis;
    this.#stream = `authsome#audit:${profile}`;
    this.#headKey = `authsome#audit-head:${profile}`;
    this.#actor = actor;
    this.#machine = machine;
  }

  /** The stream and its store, for messages. */
  get path(): string {
    return `redis stream ${this.#stream} in ${this.#redis.description}`;
  }

  record(event: AuditEvent): Promise<void> {
    return this.recordMany([{ ...event, time: new Date().toISOString() }]);
  }

  /** Appends the entries as one step of the chain, relinking them when another writer came first. */
  async recordMany(events: (AuditEvent & { time?: string })[]): Promise<void> {
    if (events.length === 0) return;
    const { client, call } = this.#redis;
    let head = this.#head ?? (await call("read the audit head", () => client.get(this.#headKey))) ?? "";
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { lines, next } = this.#link(events, _parseHead(head));
      const [done, current] = (await call("append to the audit log", () => client.eval(AUDIT_APPEND_SCRIPT, 2, this.#stream, this.#headKey, head, next, ...lines))) as [number, string];
      if (done === 1) {
        this.#head = next;
        return;
      }
      head = current;
    }
    this.#head = undefined;
    throw new AuthsomeError("storage_failed", `could not append to ${this.path}: ${MAX_ATTEMPTS} other writers came first`, { hint: "retry; if it persists, the store is overloaded" });
  }

  /** The entries as lines chained from `head`, and the head after them (as stored). */
  #link(events: (AuditEvent & { time?: string })[], head: Head): { lines: string[]; next: string } {
    let hash = head.hash;
    const run = auditRunId();
    const lines = events.map(({ time, ...event }) => {
      const entry: AuditEntry = { time: time ?? new Date().toISOString(), pid: process.pid, actor: this.#actor, run, machine: this.#machine.id, hostname: this.#machine.host, ...event, prev: hash };
      const line = JSON.stringify(entry);
      hash = lineHash(line);
      return line;
    });
    return { lines, next: JSON.stringify({ hash, lines: head.lines + lines.length }) };
  }

  /** Every line of the stream, oldest first, read in pages. */
  async #lines(): Promise<string[]> {
    const { client, call } = this.#redis;
    const lines: string[] = [];
    for (let from = "-"; ; ) {
      const page = await call("read the audit log", () => client.xrange(this.#stream, from, "+", "COUNT", PAGE));
      for (const [, fields] of page) lines.push(fields[fields.indexOf("e") + 1] ?? "");
      const last = page.at(-1);
      if (page.length < PAGE || last === undefined) return lines;
      from = `(${last[0]}`;
    }
  }

  async read(options: { since?: Date } = {}): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for (const line of await this.#lines()) {
      const entry = parseEntry(line);
      if (entry === undefined) continue;
      if (options.since !== undefined && new Date(entry.time) < options.since) continue;
      entries.push(entry as unknown as AuditEntry);
    }
    return entries;
  }

  /**
   * Checks the fleet's chain against its head. The head is read first: entries appended while
   * the stream is read only lengthen it, and still chain.
   */
  async verify(): Promise<AuditVerification> {
    const { client, call } = this.#redis;
    const head = _parseHead((await call("read the audit head", () => client.get(this.#headKey))) ?? "");
    return verifyAuditLines(head, await this.#lines());
  }
}
