/**
 * The real CLI on a real pseudo-terminal (python3's pty module, test/fixtures/pty-bridge.py):
 * stdin, stdout and stderr are the terminal, so the CLI prompts as it does for a person. Tests
 * wait for text to appear, then type.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { cliCommand } from "./cli.ts";
import { repoRoot } from "./spawn-runtime.ts";

/** Why pty tests cannot run here, or false when they can. */
export const ptySkip: string | false = spawnSync("python3", ["-c", "import pty"]).status === 0 ? false : "python3 with the pty module is not installed";

/** A CLI run on a terminal. */
export interface PtySession {
  /** Everything the terminal showed so far (stdout and stderr together, as on a screen). */
  output(): string;
  /** Resolves with the output once `pattern` matches it; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  /** Types text into the terminal (`\r` is Enter, `\x03` Ctrl-C, `\x7f` Backspace). */
  type(text: string): void;
  /** The exit code, once the CLI ended (bounded by the timeout given to {@link runOnPty}). */
  exited: Promise<number>;
}

/** Starts `authsome <args>` on a pty with exactly `env` (plus NO_COLOR). */
export function runOnPty(args: string[], env: Record<string, string | undefined>, timeoutMs = 60_000): PtySession {
  const { command, args: prefix } = cliCommand();
  const childEnv: Record<string, string> = { NO_COLOR: "1" };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
  const child = spawn("python3", [join(repoRoot, "test/fixtures/pty-bridge.py"), command, ...prefix, ...args], { cwd: repoRoot, env: childEnv, stdio: ["pipe", "pipe", "inherit"] });
  let text = "";
  const waiters = new Set<() => void>();
  child.stdout.on("data", (d: Buffer) => {
    text += d.toString("utf8");
    for (const check of waiters) check();
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const exited = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => (clearTimeout(killer), resolve(code ?? -1)));
  });
  return {
    output: () => text,
    type: (input) => void child.stdin.write(input),
    exited,
    waitFor: (pattern, wait = 20_000) => new Promise<string>((resolve, reject) => {
      const check = () => {
        if (!pattern.test(text)) return;
        done();
        resolve(text);
      };
      const done = () => (clearTimeout(timer), waiters.delete(check));
      const timer = setTimeout(() => (done(), reject(new Error(`timed out waiting for ${pattern} in:\n${text}`))), wait);
      waiters.add(check);
      void exited.then(() => setImmediate(() => {
        if (!waiters.has(check)) return;
        done();
        reject(new Error(`the CLI exited before ${pattern} appeared:\n${text}`));
      }));
      check();
    }),
  };
}

/** The environment of a machine with no browser at hand (no BROWSER, no display), plus `extra`. */
export function noBrowserEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY", "AUTHSOME_PASSPHRASE"]) delete env[name];
  // macOS and Windows always have a screen: an SSH session is what takes the browser away there.
  if (process.platform === "darwin" || process.platform === "win32") env["SSH_CONNECTION"] = "192.0.2.1 50000 192.0.2.2 22";
  return { ...env, ...extra };
}
