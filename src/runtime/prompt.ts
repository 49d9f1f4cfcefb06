/**
 * Line prompts at the terminal, hidden or echoed, on both runtimes: stdin in raw mode
 * (node:tty's setRawMode on Node, Deno.stdin.setRaw on Deno) so a hidden answer is never
 * echoed and Ctrl-C arrives as a byte we turn into a clean cancel. The prompt text goes to
 * stderr, like every other message. Each wait is bounded by a timeout.
 */
import { AuthsomeError } from "../core/errors.ts";
import { writeStdio } from "./stdio.ts";

/** Options for {@link promptLine}. */
export interface PromptOptions {
  /** Do not echo what is typed (secrets, passphrases). */
  hidden: boolean;
  /** How long to wait for Enter, in milliseconds. */
  timeoutMs: number;
  /** Cancels the prompt (the CLI's Ctrl-C controller). */
  signal?: AbortSignal;
  /** Longest answer accepted, in characters; default 4096. */
  maxLength?: number;
}

/** What one chunk of keystrokes did to the line. */
export interface EditStep {
  /** What to write back to the terminal (nothing for hidden input). */
  echo: string;
  /** Set when the line ended: Enter, Ctrl-C / Ctrl-D (cancel), or too many characters. */
  end?: "done" | "cancel" | "too_long";
}

/** A line being typed in raw mode. */
export interface LineEditor {
  feed(text: string): EditStep;
  value(): string;
}

/**
 * Builds the key handling of a raw-mode line: Enter ends it, Backspace and Ctrl-U edit it,
 * Ctrl-C (and Ctrl-D on an empty line) cancel, escape sequences (arrows, bracketed-paste
 * markers) and other control characters are ignored.
 */
export function createLineEditor(hidden: boolean, maxLength = 4096): LineEditor {
  let chars: string[] = [];
  let escape: 0 | 1 | 2 = 0;
  const feed = (text: string): EditStep => {
    let echo = "";
    for (const ch of text) {
      const code = ch.codePointAt(0) ?? 0;
      if (escape === 1) escape = ch === "[" || ch === "O" ? 2 : 0;
      else if (escape === 2) escape = code >= 0x40 && code <= 0x7e ? 0 : 2;
      else if (ch === "\x1b") escape = 1;
      else if (ch === "\r" || ch === "\n") return { echo, end: "done" };
      else if (ch === "\x03" || (ch === "\x04" && chars.length === 0)) return { echo, end: "cancel" };
      else if (ch === "\x7f" || ch === "\b") {
        if (chars.length > 0 && !hidden) echo += "\b \b";
        chars.pop();
      } else if (ch === "\x15") {
        if (!hidden) echo += "\b \b".repeat(chars.length);
        chars = [];
      } else if (code >= 0x20) {
        chars.push(ch);
        if (chars.length > maxLength) return { echo, end: "too_long" };
        if (!hidden) echo += ch;
      }
    }
    return { echo };
  };
  return { feed, value: () => chars.join("") };
}

interface DenoStdin {
  setRaw(mode: boolean): void;
  read(buffer: Uint8Array): Promise<number | null>;
}

type RawInput = { stop(): void };

// One outstanding Deno read at a time, shared across prompts: a read still pending when a
// prompt ends keeps its bytes for the next prompt instead of dropping them.
let denoPending: Promise<Uint8Array | null> | undefined;

function _denoRaw(stdin: DenoStdin, onData: (bytes: Uint8Array) => void, onEnd: () => void): RawInput {
  let stopped = false;
  stdin.setRaw(true);
  void (async () => {
    while (!stopped) {
      denoPending ??= (async () => {
        const buffer = new Uint8Array(1024);
        const n = await stdin.read(buffer);
        return n === null ? null : buffer.slice(0, n);
      })();
      const chunk = await denoPending;
      if (stopped) return;
      denoPending = undefined;
      if (chunk === null) return onEnd();
      onData(chunk);
    }
  })().catch(() => onEnd());
  return { stop: () => ((stopped = true), stdin.setRaw(false)) };
}

function _nodeRaw(onData: (bytes: Uint8Array) => void, onEnd: () => void): RawInput {
  const stdin = process.stdin as NodeJS.ReadStream & { setRawMode?(mode: boolean): void };
  stdin.setRawMode?.(true);
  stdin.on("data", onData);
  stdin.on("end", onEnd);
  stdin.resume();
  return {
    stop: () => {
      stdin.off("data", onData);
      stdin.off("end", onEnd);
      stdin.setRawMode?.(false);
      stdin.pause();
    },
  };
}

function _rawInput(onData: (bytes: Uint8Array) => void, onEnd: () => void): RawInput {
  const deno = (globalThis as { Deno?: { stdin: DenoStdin } }).Deno;
  return deno === undefined ? _nodeRaw(onData, onEnd) : _denoRaw(deno.stdin, onData, onEnd);
}

const ENDINGS = {
  cancel: () => new AuthsomeError("auth_cancelled", "cancelled at the prompt"),
  too_long: (max: number) => new AuthsomeError("usage", `the answer is longer than ${max} characters`),
  closed: () => new AuthsomeError("auth_cancelled", "the terminal closed before an answer was typed"),
  timeout: (ms: number) => new AuthsomeError("auth_cancelled", `no answer at the prompt within ${Math.round(ms / 1000)} s`, { hint: "run the command again (--timeout SECONDS waits longer)" }),
};

/**
 * Asks a question on stderr and reads one line from the terminal (stdin must be a TTY).
 * Hidden answers are not echoed. Ctrl-C cancels (auth_cancelled, exit 2); so does the timeout.
 */
export function promptLine(question: string, options: PromptOptions): Promise<string> {
  const max = options.maxLength ?? 4096;
  const editor = createLineEditor(options.hidden, max);
  const decoder = new TextDecoder();
  return new Promise<string>((resolve, reject) => {
    let input: RawInput | undefined;
    let settled = false;
    const finish = (error: AuthsomeError | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      input?.stop();
      writeStdio(2, "\n");
      if (error === undefined) resolve(editor.value());
      else reject(error);
    };
    const onAbort = () => finish(ENDINGS.cancel());
    const timer = setTimeout(() => finish(ENDINGS.timeout(options.timeoutMs)), options.timeoutMs);
    if (options.signal?.aborted) return onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    input = _rawInput((bytes) => {
      const step = editor.feed(decoder.decode(bytes, { stream: true }));
      if (step.echo !== "") writeStdio(2, step.echo);
      if (step.end === "done") finish(undefined);
      else if (step.end === "cancel") finish(ENDINGS.cancel());
      else if (step.end === "too_long") finish(ENDINGS.too_long(max));
    }, () => finish(ENDINGS.closed()));
    // Asked only once raw mode is on: a fast typist (or a test) never sees the answer echoed.
    if (!settled) writeStdio(2, question);
  });
}
