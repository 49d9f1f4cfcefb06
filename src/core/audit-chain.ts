/**
 * Reading an audit log's hash chain: which lines are entries, where a crash cut the log, and
 * where it was edited. Pure functions over the log's text; src/core/audit.ts does the files.
 *
 * A writer appends its lines with one write and then replaces the head file, so a kill -9
 * can leave only two shapes: lines after the head that chain correctly (the head update was
 * lost), and a last segment of bytes that is not an entry (the write itself was cut). Such
 * "torn" lines are never part of the chain; the next writer appends a recovery entry that
 * names them by line, count and SHA-256, so removing or editing them later is still seen.
 */
import * as nodeCrypto from "node:crypto";
import * as v from "valibot";

/** The hash the first entry's `prev` carries. */
export const GENESIS = "0".repeat(64);

/** The action of the entry a writer appends after a crash cut the log. */
export const RECOVERED_ACTION = "audit.recovered";

/** Torn lines: `lines` lines from line `line` on, and the SHA-256 of them joined by "\n". */
export interface AuditCut {
  line: number;
  lines: number;
  sha256: string;
}

/** What a scan of (part of) a log found. */
export interface ChainScan {
  /** Hash of the last chained entry (GENESIS if none). */
  hash: string;
  /** Lines scanned, torn ones included. */
  lines: number;
  /** Hash after each line number that ends on a chained entry (for the head check). */
  hashAt: Map<number, string>;
  /** Torn lines at the end that no recovery entry covers yet. */
  torn?: AuditCut;
  /** Crashes already recovered: the cut, and the line of its recovery entry. */
  recovered: { cut: AuditCut; at: number }[];
  /** The first sign of an edit (never a crash), 1-based. */
  problem?: { line: number; reason: string };
}

const CutSchema = v.object({ line: v.number(), lines: v.number(), sha256: v.string() });
const EntrySchema = v.looseObject({ time: v.string(), action: v.string(), prev: v.string(), cut: v.optional(CutSchema) });
/**
 * An entry as parsed: the fields the chain reads, the rest kept. Written out (not inferred from
 * the schema) so the published .d.ts files need no valibot types.
 */
export interface ParsedEntry {
  [field: string]: unknown;
  time: string;
  action: string;
  prev: string;
  cut?: AuditCut | undefined;
}

/**
 * `crypto.hash` (Node 20.12+, Deno): a digest without a Hash object, about half the cost of
 * createHash for an entry's line (0.5 vs 1.1 us); Node 20 before 20.12 has only createHash.
 */
const _oneShot: ((algorithm: string, data: string, encoding: "hex") => string) | undefined = typeof nodeCrypto.hash === "function" ? nodeCrypto.hash : undefined;

/** SHA-256 hex of a line (synchronous: the proxy audits every request; see audit.ts). */
export function lineHash(text: string): string {
  return _oneShot === undefined ? nodeCrypto.createHash("sha256").update(text).digest("hex") : _oneShot("sha256", text, "hex");
}

/** Parses one line as an entry; undefined when it is not one (torn, empty or garbage). */
export function parseEntry(line: string): ParsedEntry | undefined {
  try {
    const parsed = v.safeParse(EntrySchema, JSON.parse(line));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}

/** Splits log text into lines; `terminated` is false when the last one has no newline. */
export function splitLines(text: string): { lines: string[]; terminated: boolean } {
  if (text === "") return { lines: [], terminated: true };
  const lines = text.split("\n");
  const terminated = lines[lines.length - 1] === "";
  if (terminated) lines.pop();
  return { lines, terminated };
}

function _cutOf(first: number, texts: string[]): AuditCut {
  return { line: first, lines: texts.length, sha256: lineHash(texts.join("\n")) };
}

function _sameCut(a: AuditCut, b: AuditCut | undefined): boolean {
  return b !== undefined && a.line === b.line && a.lines === b.lines && a.sha256 === b.sha256;
}

function _breakReason(last: number, next: number): string {
  return last === 0
    ? "the first entry was edited or removed"
    : `the chain breaks between lines ${last} and ${next}: line ${last} was edited, or a line after it was removed`;
}

/**
 * Scans `lines`, the first of which is line `start.line + 1`, chaining from `start.hash`.
 * Stops at the first problem. Torn lines must be followed by the recovery entry naming
 * them, or end the scan (then `torn` says where the crash cut the log).
 */
export function scanChain(lines: string[], start: { hash: string; line: number } = { hash: GENESIS, line: 0 }): ChainScan {
  const scan: ChainScan = { hash: start.hash, lines: start.line, hashAt: new Map([[start.line, start.hash]]), recovered: [] };
  let pending: { first: number; texts: string[] } | undefined;
  for (const text of lines) {
    const n = ++scan.lines;
    const entry = parseEntry(text);
    if (entry === undefined) {
      pending ??= { first: n, texts: [] };
      pending.texts.push(text);
      continue;
    }
    if (entry.prev !== scan.hash) {
      // The last chained line before this one was edited, or lines after it were removed.
      const last = (pending?.first ?? n) - 1;
      scan.problem = { line: Math.max(last, 1), reason: _breakReason(last, n) };
      return scan;
    }
    if (pending !== undefined) {
      const cut = _cutOf(pending.first, pending.texts);
      if (entry.action !== RECOVERED_ACTION || !_sameCut(cut, entry.cut)) {
        scan.problem = { line: pending.first, reason: `line ${pending.first} is not a valid entry, and no recovery entry after it names it` };
        return scan;
      }
      scan.recovered.push({ cut, at: n });
      pending = undefined;
    } else if (entry.cut !== undefined) {
      scan.problem = { line: entry.cut.line, reason: `the lines a crash cut at line ${entry.cut.line} (recorded at line ${n}) were removed or edited` };
      return scan;
    }
    scan.hash = lineHash(text);
    scan.hashAt.set(n, scan.hash);
  }
  if (pending !== undefined) scan.torn = _cutOf(pending.first, pending.texts);
  return scan;
}
