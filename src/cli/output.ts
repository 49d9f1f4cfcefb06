/**
 * Output conventions: data on stdout (JSON with `--json`), messages and prompts on stderr,
 * errors as one line (or `{error, message}` JSON on stdout with `--json`). Colour is decided per
 * stream, by the stream the text goes to: deciding from stderr's TTY put escape codes into
 * `authsome list > file`.
 */
import { AuthsomeError, toAuthsomeError } from "../core/errors.ts";
import { getEnv } from "../runtime/index.ts";
import { isTerminal, writeStdio } from "../runtime/stdio.ts";

/** A colour style. */
export type Style = "bold" | "dim" | "green" | "red" | "yellow";

/** How a command prints. */
export interface Output {
  readonly json: boolean;
  readonly quiet: boolean;
  /** Colour on stdout (data). */
  readonly color: boolean;
  /** Prints data: `value` as JSON with --json, else the human text. */
  data(value: unknown, human: () => string): void;
  /** A progress or status message on stderr (suppressed by --quiet). */
  info(message: string): void;
  /** A warning on stderr (always shown). */
  warn(message: string): void;
  /** Prints an error and returns its exit code. */
  error(error: unknown): number;
  /** Colours text bound for stdout (inside `data`) when stdout takes colour. */
  paint(style: Style, text: string): string;
  /** Colours text bound for stderr (inside `info`/`warn`) when stderr takes colour. */
  paintMessage(style: Style, text: string): string;
}

/** Flags that shape the output. */
export interface OutputFlags {
  json: boolean;
  quiet: boolean;
  noColor: boolean;
}

const CODES = { bold: [1, 22], dim: [2, 22], green: [32, 39], red: [31, 39], yellow: [33, 39] } as const;

/**
 * Whether text written to a stream with this TTY state gets colour: `--no-color` never;
 * `FORCE_COLOR` (anything but `0`/`false`) always, as in Node and supports-color; `NO_COLOR`
 * (https://no-color.org) or `TERM=dumb` never; otherwise only at a terminal.
 */
export function colorEnabled(isTTY: boolean | undefined, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  const force = getEnv("FORCE_COLOR");
  if (force !== undefined) return force !== "0" && force !== "false";
  if (getEnv("NO_COLOR") !== undefined || getEnv("TERM") === "dumb") return false;
  return isTTY === true;
}

function painter(enabled: boolean): (style: Style, text: string) => string {
  return (style, text) => {
    if (!enabled) return text;
    const [open, close] = CODES[style];
    return `\u001b[${open}m${text}\u001b[${close}m`;
  };
}

/** Creates the output for a run. */
export function createOutput(flags: OutputFlags): Output {
  const color = colorEnabled(isTerminal(1), flags.noColor);
  const paintMessage = painter(colorEnabled(isTerminal(2), flags.noColor));
  const out: Output = {
    json: flags.json,
    quiet: flags.quiet,
    color,
    data(value, human) {
      writeStdio(1, flags.json ? `${JSON.stringify(value, null, 2)}\n` : ensureNewline(human()));
    },
    info(message) {
      if (!flags.quiet) writeStdio(2, ensureNewline(message));
    },
    warn(message) {
      writeStdio(2, ensureNewline(`${paintMessage("yellow", "warning:")} ${message}`));
    },
    error(error) {
      const failure = toAuthsomeError(error);
      if (getEnv("AUTHSOME_DEBUG") === "1") writeStdio(2, `${(error as Error)?.stack ?? String(error)}\n${(failure.cause as Error | undefined)?.stack ?? ""}\n`);
      if (flags.json) writeStdio(1, `${JSON.stringify(failure.toJSON())}\n`);
      else writeStdio(2, `${paintMessage("red", "error:")} ${failure.message}${failure.hint ? `\n  ${failure.hint}` : ""}\n`);
      return failure.exitCode;
    },
    paint: painter(color),
    paintMessage,
  };
  return out;
}

function ensureNewline(text: string): string {
  return text === "" || text.endsWith("\n") ? text : `${text}\n`;
}

export { AuthsomeError };
