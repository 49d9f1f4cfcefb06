/**
 * The audit log: one append-only JSON-lines file per profile under `<home>/audit/`. Each line
 * carries the SHA-256 of the line before it, and a head file keeps the hash and count of the
 * last line, so `verify()` finds the first edited, inserted or removed line, including a
 * removed tail. Entries hold names and outcomes, never a secret value.
 */
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
  async record(event: AuditEvent): Promise<void> {
    await ensurePrivateDir(join(this.#path, ".."));
    await this.#lock.withLock(this.#lockName, async () => {
      const head = await this.#readHead();
      const entry: AuditEntry = { time: new Date().toISOString(), pid: process.pid, actor: this.#actor, ...event, prev: head.hash };
      const line = JSON.stringify(entry);
      await appendFile(this.#path, `${line}\n`, { mode: 0o600 });
      await writeFileAtomic(this.#headPath, JSON.stringify({ hash: await sha256Hex(line), lines: head.lines + 1 }));
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
