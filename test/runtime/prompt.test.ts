/**
 * The terminal line editor behind hidden prompts (keys typed in raw mode), and the one
 * decision whether a browser is at hand.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { browserAtHand } from "../../src/runtime/index.ts";
import { createLineEditor } from "../../src/runtime/prompt.ts";

test("a hidden line echoes nothing; Backspace, Ctrl-U and escape sequences edit it", () => {
  const editor = createLineEditor(true);
  assert.deepEqual(editor.feed("sk-abX\x7fc"), { echo: "" });
  assert.equal(editor.value(), "sk-abc");
  editor.feed("\x1b[D\x1b[200~def\x1b[201~");
  assert.equal(editor.value(), "sk-abcdef", "arrow keys and bracketed-paste markers are ignored");
  editor.feed("\x15xyz");
  assert.equal(editor.value(), "xyz", "Ctrl-U clears the line");
  assert.deepEqual(editor.feed("1\rignored"), { echo: "", end: "done" });
  assert.equal(editor.value(), "xyz1");
});

test("a visible line echoes what is typed and erases on Backspace", () => {
  const editor = createLineEditor(false);
  assert.deepEqual(editor.feed("Iv1x"), { echo: "Iv1x" });
  assert.deepEqual(editor.feed("\x7f"), { echo: "\b \b" });
  assert.deepEqual(editor.feed("\x7f\x7f\x7f\x7f"), { echo: "\b \b\b \b\b \b" }, "nothing to erase past the start");
  assert.equal(editor.value(), "");
});

test("Ctrl-C cancels, Ctrl-D cancels an empty line, and the length is bounded", () => {
  assert.equal(createLineEditor(true).feed("abc\x03").end, "cancel");
  assert.equal(createLineEditor(true).feed("\x04").end, "cancel");
  const editor = createLineEditor(true, 4);
  assert.equal(editor.feed("abc\x04d").end, undefined, "Ctrl-D inside a line is ignored");
  assert.equal(editor.feed("e").end, "too_long");
});

test("browserAtHand: BROWSER wins; SSH or no display on Linux means no browser", () => {
  // Only these five are touched and put back: Deno runs test files in parallel threads of one
  // process, and putting back a copy of the whole environment would delete what another file set
  // meanwhile (or bring back what it removed).
  const names = ["BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "SSH_CONNECTION", "SSH_TTY"];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  const set = (env: Record<string, string | undefined>) => {
    for (const name of names) delete process.env[name];
    for (const [k, v] of Object.entries(env)) if (v !== undefined) process.env[k] = v;
  };
  try {
    set({ BROWSER: "firefox", SSH_CONNECTION: "192.0.2.1 1 192.0.2.2 22" });
    assert.deepEqual(browserAtHand(), { ok: true });
    set({ SSH_TTY: "/dev/pts/3", DISPLAY: ":0" });
    assert.deepEqual(browserAtHand(), { ok: false, reason: "this is an SSH session" });
    set({});
    if (process.platform === "linux") assert.match((browserAtHand() as { reason: string }).reason, /no display/);
    set({ WAYLAND_DISPLAY: "wayland-0" });
    assert.deepEqual(browserAtHand(), { ok: true });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
});
