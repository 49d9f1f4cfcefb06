/**
 * Output conventions: data on stdout (JSON with `--json`), messages and prompts on stderr,
 * errors as one line (or `{error, message}` JSON on stdout with `--json`).
 */
import { AuthsomeError, toAuthsomeError } from "../core/errors.ts";
import { getEnv } from "../runtime/index.ts";

/** How a command prints. */
export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  readonly color: boolean;
  /** Prints data: `value` as JSON with --json, else the human text. */
  data(value: unknown, human: () => string): void;
  /** A progress or status message on stderr (suppressed by --quiet). */
  info(message: string): void;
  /** A warning on stderr (always shown). */
  warn(message: string): void;
  /** Prints an error and returns its exit code. */
  error(error: unknown): number;
  /** Colours text when colour is on. */
  paint(style: "bold" | "dim" | "green" | "red" | "yellow", text: string): string;
}

const CODES = { bold: [1, 22], dim: [2, 22], green: [32, 39], red: [31, 39], yellow: [33, 39] } as const;

/** Creates the output for a run. */
export function createOutput(flags: { json: boolean; quiet: boolean; noColor: boolean }): Output {
  const color = !flags.noColor && getEnv("NO_COLOR") === undefined && process.stderr.isTTY === true;
  const out: Output = {
    json: flags.json,
    quiet: flags.quiet,
    color,
    data(value, human) {
      process.stdout.write(flags.json ? `${JSON.stringify(value, null, 2)}\n` : ensureNewline(human()));
    },
    info(message) {
      if (!flags.quiet) process.stderr.write(ensureNewline(message));
    },
    warn(message) {
      process.stderr.write(ensureNewline(`${out.paint("yellow", "warning:")} ${message}`));
    },
    error(error) {
      const failure = toAuthsomeError(error);
      if (getEnv("AUTHSOME_DEBUG") === "1") process.stderr.write(`${(error as Error)?.stack ?? String(error)}\n${(failure.cause as Error | undefined)?.stack ?? ""}\n`);
      if (flags.json) process.stdout.write(`${JSON.stringify(failure.toJSON())}\n`);
      else process.stderr.write(`${out.paint("red", "error:")} ${failure.message}${failure.hint ? `\n  ${failure.hint}` : ""}\n`);
      return failure.exitCode;
    },
    paint(style, text) {
      if (!color) return text;
      const [open, close] = CODES[style];
      return `\u001b[${open}m${text}\u001b[${close}m`;
    },
  };
  return out;
}

function ensureNewline(text: string): string {
  return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}

export { AuthsomeError };
