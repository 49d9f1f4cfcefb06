/**
 * The process edge for stdout and stderr: wait until everything written has left the process
 * before exiting (Node's `process.exit()` drops what a full pipe has not taken yet: with a
 * large `list --json` a pipe got 65,536 bytes), and treat a reader that went away (`| head`)
 * as the end of output rather than a crash.
 */

type Stream = NodeJS.WriteStream;

/** Resolves once `stream` has handed every queued byte to the OS (or can take no more). */
export function drained(stream: Stream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || stream.writableLength === 0) return resolve();
    const done = () => {
      stream.off("close", done);
      stream.off("error", done);
      resolve();
    };
    stream.on("close", done);
    stream.on("error", done);
    // Writes complete in order: the callback of an empty write runs once all before it are out
    // ('drain' alone would not do: it fires only after a write that returned false).
    stream.write("", done);
  });
}

let guarded = false;

/** A closed reader (EPIPE) ends output quietly; any other write error is left to crash loudly. */
export function guardPipes(): void {
  if (guarded) return;
  guarded = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      stream.destroy();
    });
  }
}

/** Exits with `code` once stdout and stderr are drained. */
export async function exitWhenDrained(code: number): Promise<never> {
  process.exitCode = code;
  await Promise.all([drained(process.stdout), drained(process.stderr)]);
  process.exit(code);
}
