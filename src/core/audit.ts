/**
 * The audit log: one append-only JSON-lines file per profile under `<home>/audit/` (with a
 * shared Redis store, the fleet's stream instead: src/core/audit-stream.ts). Each line
 * carries the SHA-256 of the entry before it, and a head file (`<profile>.head`: hash, line
 * count and byte size after the last write) lets `verify()` see a removed tail too. Entries
 * hold names and outcomes, never a secret value, and the run id of the process that wrote them.
 *
 * Crash consistency (issue 11): a write appends its lines with one write(), fdatasyncs, then
 * renames a new head into place. A kill -9 can therefore leave lines after the head (they
 * chain, and count) or a cut last line (src/core/audit-chain.ts): the next writer, under the
 * lock, reads only the bytes after the head's size, and records a cut with a recovery entry.
 */
import { Buffer } from "node:buffer";
import { closeSync, fdatasync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { type AuditCut, GENESIS, RECOVERED_ACTION, lineHash, parseEntry, scanChain, splitLines } from "./audit-chain.ts";
import type { Lock } from "./lock.ts";
import { machineIdentity } from "./machine.ts";
import type { Store } from "./storage/index.ts";

/** What an entry records. Only names and outcomes: no field here may hold a secret. */
export interface AuditEvent {
  action: string;
  provider?: string;
  connection?: string;
  host?: string;
  method?: string;
  status?: number;
  outcome: "ok" | "error" | "denied";
  /** An error code (never a message that could quote input). */
  error?: string;
}

/** A stored audit entry. */
export interface AuditEntry extends AuditEvent {
  time: string;
  pid: number;
  actor: string;
  /** Correlation id: one per process, so one command's (or one daemon's) entries group. */
  run: string;
  /** On a recovery entry: the torn lines a crash left. */
  cut?: AuditCut;
  /** Fleet log only (a shared store): the writer's machine id and hostname (src/core/machine.ts). */
  machine?: string;
  hostname?: string;
  prev: string;
}

/** What every audit log offers: the home's file (fs store) or the fleet's stream (Redis store). */
export interface AuditTrail {
  /** Where the log lives, for messages (a file path, or the stream and its store). */
  readonly path: string;
  record(event: AuditEvent): Promise<void>;
  recordMany(events: (AuditEvent & { time?: string })[]): Promise<void>;
  read(options?: { since?: Date }): Promise<AuditEntry[]>;
  verify(): Promise<AuditVerification>;
}

/**
 * The audit log of one profile: with a shared (Redis) store the fleet's stream, every machine's
 * entries in one chain (src/core/audit-stream.ts); else the home's file.
 * @internal
 */
export async function openAuditLog(home: string, profile: string, store: Store, actor: string): Promise<AuditTrail> {
  if (store.redis === undefined) return new AuditLog(home, profile, store.lock, actor);
  const { FleetAuditLog } = await import("./audit-stream.ts");
  return new FleetAuditLog(store.redis, profile, actor, machineIdentity(home));
}

/** A crash found by `verify()`: where it cut the log, and whether a writer recovered since. */
export interface AuditCrash {
  line: number;
  lines: number;
  recovered: boolean;
  reason: string;
}

/** The result of `verify()`: `ok` is false only for an edit or removal, never for a crash. */
export interface AuditVerification {
  ok: boolean;
  lines: number;
  /** 1-based line number of the first edit or removal, and what it is. */
  problem?: { line: number; reason: string };
  /** Crashes that cut the log (present only when there were any). */
  crashes?: AuditCrash[];
}

const HeadSchema = v.object({ hash: v.string(), lines: v.number(), bytes: v.optional(v.number()) });
type Head = v.InferOutput<typeof HeadSchema>;

let _runId: string | undefined;
/** This process's run id (12 hex digits), made at its first audit entry. */
export function auditRunId(): string {
  return (_runId ??= crypto.randomUUID().replaceAll("-", "").slice(0, 12));
}

function _code(error: unknown): unknown {
  return typeof error === "object" && error !== null && "code" in error ? error.code : undefined;
}

/** The audit log of one profile in the home's file. */
export class AuditLog implements AuditTrail {
  readonly #dir: string;
  readonly #path: string;
  readonly #headPath: string;
  readonly #lock: Lock;
  readonly #lockName: string;
  readonly #actor: string;

  constructor(home: string, profile: string, lock: Lock, actor: string) {
    this.#dir = join(home, "audit");
    this.#path = join(this.#dir, `${profile}.jsonl`);
    this.#headPath = join(this.#dir, `${profile}.head`);
    this.#lock = lock;
    this.#lockName = `audit.${profile}`;
    this.#actor = actor;
  }

  /** Path of the log file. */
  get path(): string {
    return this.#path;
  }

  /** The head; a missing or unreadable one reads as the empty log's (a first write killed early). */
  #readHead(): Head {
    try {
      return v.parse(HeadSchema, JSON.parse(readFileSync(this.#headPath, "utf8")));
    } catch {
      return { hash: GENESIS, lines: 0, bytes: 0 };
    }
  }

  /** Appends one entry (under the profile's audit lock, so the chain stays linear). */
  record(event: AuditEvent): Promise<void> {
    return this.recordMany([{ ...event, time: new Date().toISOString() }]);
  }

  /**
   * Appends several entries with one lock, one append and one head update: the proxy batches
   * its per-request injection entries this way instead of paying a locked, fsynced write each.
   */
  async recordMany(events: (AuditEvent & { time?: string })[]): Promise<void> {
    if (events.length === 0) return;
    await this.#lock.withLock(this.#lockName, async () => this.#append(events));
  }

  #open(): number {
    try {
      return openSync(this.#path, "a+", 0o600);
    } catch (error) {
      if (_code(error) !== "ENOENT") throw error;
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
      return openSync(this.#path, "a+", 0o600);
    }
  }

  /**
   * The append itself, under the lock; synchronous calls (see src/core/lock-file.ts) except
   * the fdatasync, which waits on the disk for milliseconds: a proxy that blocked its event
   * loop there spent 11-20% of its time in it under load (issue 16's profile).
   */
  async #append(events: (AuditEvent & { time?: string })[]): Promise<void> {
    const head = this.#readHead();
    const fd = this.#open();
    try {
      const size = fstatSync(fd).size;
      const state = _stateAfterHead(fd, size, head);
      let hash = state.hash;
      const lines: string[] = [];
      const run = auditRunId();
      const entries: (AuditEvent & { time?: string; cut?: AuditCut })[] = state.torn === undefined ? events : [{ action: RECOVERED_ACTION, outcome: "ok", cut: state.torn }, ...events];
      for (const event of entries) {
        // The fields in the order `{ time, pid, actor, run, ...event, prev }` gives (the second
        // `time` overwrites the event's in place); Object.assign, as a rest and a spread per
        // entry cost twice as much (one entry per proxied request).
        const time = event.time ?? new Date().toISOString();
        const entry: AuditEntry = Object.assign({ time, pid: process.pid, actor: this.#actor, run }, event, { time, prev: hash });
        const line = JSON.stringify(entry);
        lines.push(line);
        // Synchronous on purpose: the proxy audits every request, and async WebCrypto digests
        // cost ~7% of its CPU at 32 clients (a JS SHA-256 still ~1%).
        hash = lineHash(line);
      }
      const bytes = Buffer.from(`${state.terminated ? "" : "\n"}${lines.join("\n")}\n`);
      for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done);
      // The lines must be durable before a head claims them (power loss); the head itself
      // needs no fsync: a lost head update only leaves lines after the head, which is fine.
      await new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
      const next: Head = { hash, lines: state.lines + lines.length, bytes: size + bytes.length };
      writeFileSync(`${this.#headPath}.tmp`, JSON.stringify(next), { mode: 0o600 });
      renameSync(`${this.#headPath}.tmp`, this.#headPath);
    } finally {
      closeSync(fd);
    }
  }

  #text(): string {
    try {
      return readFileSync(this.#path, "utf8");
    } catch (error) {
      if (_code(error) === "ENOENT") return "";
      throw error;
    }
  }

  /** Entries, oldest first (torn lines skipped), optionally only those at or after `since`. */
  async read(options: { since?: Date } = {}): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for (const line of splitLines(this.#text()).lines) {
      const entry = parseEntry(line);
      if (entry === undefined) continue;
      if (options.since !== undefined && new Date(entry.time) < options.since) continue;
      entries.push(entry as unknown as AuditEntry);
    }
    return entries;
  }

  /**
   * Checks the chain and the head, under the lock (so no write is half-seen). An edit or a
   * removal makes `ok` false and names its first line; a crash is listed in `crashes`.
   */
  async verify(): Promise<AuditVerification> {
    const { head, text } = await this.#lock.withLock(this.#lockName, async () => ({ head: this.#readHead(), text: this.#text() }));
    return verifyAuditLines(head, splitLines(text).lines);
  }
}

/** Where the chain stands at the end of the file, reading only what follows the head. */
function _stateAfterHead(fd: number, size: number, head: Head): { hash: string; lines: number; terminated: boolean; torn?: AuditCut } {
  if (head.bytes === size) return { hash: head.hash, lines: head.lines, terminated: true };
  // The file is longer than the head says (a writer was killed before its head update), or
  // the head is from an older version without `bytes`, or the file was cut (an edit: keep
  // chaining from the head, so the break stays visible to verify).
  const cut = head.bytes !== undefined && head.bytes > size;
  const from = head.bytes !== undefined && head.bytes < size ? head.bytes : 0;
  const buffer = Buffer.alloc(size - from);
  for (let done = 0; done < buffer.length; ) {
    const read = readSync(fd, buffer, done, buffer.length - done, from + done);
    if (read === 0) break;
    done += read;
  }
  const { lines, terminated } = splitLines(buffer.toString("utf8"));
  const total = (from === 0 ? 0 : head.lines) + lines.length;
  if (cut) return { hash: head.hash, lines: total, terminated };
  const scan = scanChain(lines, from === 0 ? undefined : { hash: head.hash, line: head.lines });
  // A tail that is not crash-shaped (an edit) gets no recovery entry: verify reports it.
  return { hash: scan.hash, lines: total, terminated, ...(scan.torn === undefined || scan.problem !== undefined ? {} : { torn: scan.torn }) };
}

/** The verdict on a whole log, given its head (the hash and line count after the last write). */
export function verifyAuditLines(head: { hash: string; lines: number }, lines: string[]): AuditVerification {
  const scan = scanChain(lines);
  const crashes: AuditCrash[] = scan.recovered.map(({ cut, at }) => ({ line: cut.line, lines: cut.lines, recovered: true, reason: `cut by a crash at line ${cut.line}, recovered (line ${at})` }));
  const result = (problem?: { line: number; reason: string }): AuditVerification => ({
    ok: problem === undefined,
    lines: lines.length,
    ...(problem === undefined ? {} : { problem }),
    ...(crashes.length === 0 ? {} : { crashes }),
  });
  if (scan.problem !== undefined) return result(scan.problem);
  if (scan.torn !== undefined) {
    // Torn lines the head already counts were written whole: they were edited since.
    if (scan.torn.line <= head.lines) return result({ line: scan.torn.line, reason: `line ${scan.torn.line} is not a valid entry` });
    crashes.push({ line: scan.torn.line, lines: scan.torn.lines, recovered: false, reason: `cut by a crash at line ${scan.torn.line}, recovered at the next write` });
  }
  if (head.lines > lines.length || scan.hashAt.get(head.lines) !== head.hash) {
    const line = Math.min(head.lines, lines.length) || 1;
    return result({ line, reason: `the log ends at line ${lines.length} but its head records ${head.lines} lines: the last lines were removed or edited` });
  }
  return result();
}

/** Queues audit events and writes them in batches (a write per `delayMs` at most). */
export interface AuditBatcher {
  add(event: AuditEvent): void;
  /** Writes everything queued; resolves when it is on disk. */
  flush(): Promise<void>;
}

/**
 * Batches high-rate audit events (one per proxied request). Entries keep their own time; a batch
 * is written `delayMs` after its first event, or at once when `max` are queued, and `flush()`
 * (called when a run ends) waits for all of them. Write failures are dropped, as a proxied
 * request must not fail because its audit line could not be written.
 */
export function createAuditBatcher(write: (events: (AuditEvent & { time: string })[]) => Promise<void>, options: { delayMs?: number; max?: number } = {}): AuditBatcher {
  // Each write takes the lock, appends, and replaces the head file (fsynced): a few ms of
  // CPU. Under load the proxy writes at most ~4 batches a second instead of one per 256 requests.
  const delayMs = options.delayMs ?? 250;
  const max = options.max ?? 4096;
  let queue: (AuditEvent & { time: string })[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve();
  const drain = (): Promise<void> => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    const batch = queue;
    queue = [];
    // A batch the log refused (its store down) goes back to the front and is tried again: the
    // requests it records were served, so their entries must land once the store answers.
    if (batch.length > 0) chain = chain.then(() => write(batch)).catch(() => {
      queue = [...batch, ...queue].slice(-max * 4);
      schedule();
    });
    return chain;
  };
  const schedule = () => {
    if (timer !== undefined) return;
    timer = setTimeout(() => void drain(), delayMs);
    (timer as { unref?: () => void }).unref?.();
  };
  return {
    add(event) {
      // Not `{ ...event, time }`: a spread plus a key cost ~600 ns a request, Object.assign ~100.
      queue.push(Object.assign({}, event, { time: _isoNow() }));
      if (queue.length >= max) void drain();
      else schedule();
    },
    flush: drain,
  };
}

let _isoMs = -1;
let _iso = "";

/** `new Date().toISOString()`, formatted once per millisecond (one entry per proxied request). */
function _isoNow(): string {
  const now = Date.now();
  if (now !== _isoMs) {
    _isoMs = now;
    _iso = new Date(now).toISOString();
  }
  return _iso;
}
