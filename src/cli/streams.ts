/**
 * The process edge for stdout and stderr: exit only once everything written has left the
 * process (Node's `process.exit()` drops what a full pipe has not taken yet: with a large
 * `list --json` a pipe got 65,536 bytes). Writing itself is src/runtime/stdio.ts.
 */
import { drainStdio } from "../runtime/stdio.ts";

/** Exits with `code` once stdout and stderr are drained. */
export async function exitWhenDrained(code: number): Promise<never> {
  process.exitCode = code;
  await drainStdio();
  process.exit(code);
}
