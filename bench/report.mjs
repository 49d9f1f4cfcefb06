// Replaces one benchmark's section in docs/benchmarks.md (between its markers), keeping the rest.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";

const FILE = "docs/benchmarks.md";
const HEADER = "# Benchmarks\n\nEach section is written by its script in bench/; rerun the command shown to refresh it.\n";

export function writeSection(name, body) {
  const text = existsSync(FILE) ? readFileSync(FILE, "utf8") : HEADER;
  const start = `<!-- bench:${name}:start -->`;
  const end = `<!-- bench:${name}:end -->`;
  const block = `${start}\n## ${name}\n\n${body}\n${end}`;
  const pattern = new RegExp(`${start}[\\s\\S]*?${end}`);
  writeFileSync(FILE, pattern.test(text) ? text.replace(pattern, block) : `${text.trimEnd()}\n\n${block}\n`);
}

/** One line of machine facts for a results section: cores, CPU, Node, date. */
export function machineFacts() {
  const cpus = os.cpus();
  const model = (cpus[0]?.model ?? "unknown CPU").replace(/\s+/g, " ").trim();
  return `${cpus.length} cores, ${model}, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}, ${os.platform()} ${os.release()}, ${new Date().toISOString().slice(0, 10)}`;
}
