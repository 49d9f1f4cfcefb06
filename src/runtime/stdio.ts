/**
 * stdout and stderr for a short-lived command: written with `writeSync` on the file descriptor
 * until something needs the stream object (a long-running bridge, a prompt), then through the
 * stream from there on, so the order of what was written is kept.
 *
 * Why: `process.stdout` is built on first read, and for a pipe that is a net.Socket with
 * Node's stream machinery (net, stream, tty and their dependencies compiled on first use:
 * ~2 ms of a `get` that prints one word), and its writes are asynchronous, so the process
 * must wait for them to drain before it exits (a `process.exit` with a full pipe drops the
 * rest). A synchronous write of the file descriptor has neither cost; a reader that went
 * away (EPIPE) ends that output quietly, as `| head` expects.
 */
import { fstatSync, writeSync } from "node:fs";
import { createRequire } from "node:module";

export type OutputFd = 1 | 2;

interface DenoStdio {
  stdin: { isTerminal(): boolean };
  stdout: { isTerminal(): boolean };
  stderr: { isTerminal(): boolean };
}

// Deno's process.stdout writes synchronously already (Deno.stdout.writeSync underneath), and its
// node:fs writeSync of fd 1 does not report a full non-blocking pipe as Node's does: streams there.
const deno = (globalThis as { Deno?: DenoStdio }).Deno;
const streamed: Record<OutputFd, boolean> = { 1: deno !== undefined, 2: deno !== undefined };
const guarded: Record<OutputFd, boolean> = { 1: false, 2: false };
const closed: Record<OutputFd, boolean> = { 1: false, 2: false };
// Asked only for a character device; a createRequire costs ~0.4 ms of every start-up.
const loadBuiltin = (id: string): unknown => process.getBuiltinModule?.(id) ?? createRequire(import.meta.url)(id);
// What a descriptor is does not change while the process runs: asked once per descriptor.
const terminal: Partial<Record<0 | OutputFd, boolean>> = {};

/**
 * True when `fd` is an interactive terminal. A pipe or a file (the common case for scripts)
 * is told apart by fstat alone; only a character device asks node:tty, which loads net.
 */
export function isTerminal(fd: 0 | OutputFd): boolean {
  return (terminal[fd] ??= _askTerminal(fd));
}

function _askTerminal(fd: 0 | OutputFd): boolean {
  if (deno !== undefined) return [deno.stdin, deno.stdout, deno.stderr][fd]?.isTerminal() ?? false;
  try {
    if (!fstatSync(fd).isCharacterDevice()) return false;
  } catch {
    return false;
  }
  return (loadBuiltin("node:tty") as typeof import("node:tty")).isatty(fd);
}

/** The stream for `fd`; every later write to that fd goes through it. */
export function stdioStream(fd: OutputFd): NodeJS.WriteStream {
  const stream = fd === 1 ? process.stdout : process.stderr;
  streamed[fd] = true;
  if (!guarded[fd]) {
    guarded[fd] = true;
    // A closed reader (EPIPE) ends output quietly; any other write error crashes loudly.
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") throw error;
      closed[fd] = true;
      stream.destroy();
    });
  }
  return stream;
}

/** Writes `text` to stdout (1) or stderr (2). */
export function writeStdio(fd: OutputFd, text: string): void {
  if (closed[fd] || text === "") return;
  if (streamed[fd]) {
    stdioStream(fd).write(text);
    return;
  }
  const bytes = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < bytes.length) {
    try {
      offset += writeSync(fd, bytes, offset);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EPIPE") return void (closed[fd] = true);
      // A non-blocking descriptor that is full: the stream waits for it to take the rest.
      if (code === "EAGAIN") return void stdioStream(fd).write(bytes.subarray(offset));
      throw error;
    }
  }
}

/** Resolves once `stream` has handed every queued byte to the OS (or can take no more). */
function _drained(stream: NodeJS.WriteStream): Promise<void> {
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

/** Resolves once everything written to stdout and stderr has left the process. */
export async function drainStdio(): Promise<void> {
  await Promise.all(([1, 2] as const).filter((fd) => streamed[fd]).map((fd) => _drained(stdioStream(fd))));
}
