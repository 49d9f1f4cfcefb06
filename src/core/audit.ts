/**
 * The audit log: one append-only JSON-lines file per profile under `<home>/audit/`. Each line
 * carries the SHA-256 of the line before it, and a head file keeps the hash and count of the
 * last line, so `verify()` finds the first edited, inserted or removed line, including a
 * removed tail. Entries hold names and outcomes, never a secret value.
 */
import { createHash } from "node:crypto";
import { appendFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import * as v from "valibot";
import { sha256Hex } from "./crypto.ts";
import { ensurePrivateDir, writeFileAtomic } from "./files.ts";
import type { Lock } from "./lock.ts";

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
  prev: string;
}

/** The result of `verify()`. */
export interface AuditVerification {
  ok: boolean;
  lines: number;
  /** 1-based line number of the first problem, and what it is. */
  problem?: { line: number; reason: string };
}

const GENESIS = "0".repeat(64);
const HeadSchema = v.object({ hash: v.string(), lines: v.number() });
const EntrySchema = v.looseObject({ time: v.string(), action: v.string(), prev: v.string() });

/** The audit log of one profile. */
export class AuditLog {
  readonly #path: string;
  readonly #headPath: string;
  readonly #lock: Lock;
  readonly #lockName: string;
  readonly #actor: string;

  constructor(home: string, profile: string, lock: Lock, actor: string) {
    this.#path = join(home, "audit", `${profile}.jsonl`);
    this.#headPath = join(home, "audit", `${profile}.head`);
    this.#lock = lock;
    this.#lockName = `audit.${profile}`;
    this.#actor = actor;
  }

  /** Path of the log file. */
  get path(): string {
    return this.#path;
  }

  async #readHead(): Promise<{ hash: string; lines: number }> {
    try {
      return v.parse(HeadSchema, JSON.parse(await readFile(this.#headPath, "utf8")));
    } catch {
      return { hash: GENESIS, lines: 0 };
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
    await ensurePrivateDir(join(this.#path, ".."));
    await this.#lock.withLock(this.#lockName, async () => {
      const head = await this.#readHead();
      let hash = head.hash;
      const lines: string[] = [];
      for (const { time, ...event } of events) {
        const entry: AuditEntry = { time: time ?? new Date().toISOString(), pid: process.pid, actor: this.#actor, ...event, prev: hash };
        const line = JSON.stringify(entry);
        lines.push(line);
        // Synchronous on purpose: the proxy audits every request, and async WebCrypto digests
        // cost ~7% of its CPU at 32 clients (a JS SHA-256 still ~1%).
        hash = createHash("sha256").update(line).digest("hex");
      }
      await appendFile(this.#path, `${lines.join("\n")}\n`, { mode: 0o600 });
      await writeFileAtomic(this.#headPath, JSON.stringify({ hash, lines: head.lines + lines.length }));
    });
  }

  async #lines(): Promise<string[]> {
    try {
      const text = await readFile(this.#path, "utf8");
      return text.split("\n").filter((line) => line !== "");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
  }

  /** Entries, oldest first, optionally only those at or after `since`. */
  async read(options: { since?: Date } = {}): Promise<AuditEntry[]> {
    const entries: AuditEntry[] = [];
    for (const line of await this.#lines()) {
      const parsed = v.safeParse(EntrySchema, safeJson(line));
      if (!parsed.success) continue;
      if (options.since !== undefined && new Date(parsed.output.time) < options.since) continue;
      entries.push(parsed.output as unknown as AuditEntry);
    }
    return entries;
  }

  /** Checks the hash chain and the head; reports the first line that was edited or removed. */
  async verify(): Promise<AuditVerification> {
    const lines = await this.#lines();
    let prev = GENESIS;
    for (const [index, line] of lines.entries()) {
      const parsed = v.safeParse(EntrySchema, safeJson(line));
      if (!parsed.success) return { ok: false, lines: lines.length, problem: { line: index + 1, reason: "not a valid entry" } };
      if (parsed.output.prev !== prev) {
        const reason =
          index === 0
            ? "the first entry was edited or removed"
            : `the chain breaks between lines ${index} and ${index + 1}: line ${index} was edited, or a line after it was removed`;
        return { ok: false, lines: lines.length, problem: { line: Math.max(index, 1), reason } };
      }
      prev = await sha256Hex(line);
    }
    const head = await this.#readHead();
    if (head.lines !== lines.length || head.hash !== prev) {
      const line = Math.min(head.lines, lines.length) || 1;
      return { ok: false, lines: lines.length, problem: { line, reason: `the log ends at line ${lines.length} but its head records ${head.lines} lines: the last lines were removed or edited` } };
    }
    return { ok: true, lines: lines.length };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
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
    if (batch.length > 0) chain = chain.then(() => write(batch)).catch(() => {});
    return chain;
  };
  return {
    add(event) {
      queue.push({ ...event, time: new Date().toISOString() });
      if (queue.length >= max) void drain();
      else if (timer === undefined) {
        timer = setTimeout(() => void drain(), delayMs);
        (timer as { unref?: () => void }).unref?.();
      }
    },
    flush: drain,
  };
}
