/**
 * The API-key form as a user meets it: stdin is a terminal (a pty from `script`), so the CLI
 * opens a one-time form on 127.0.0.1 with $BROWSER; a client acting as the browser fills it,
 * after a cross-origin post and a post without the form's token were refused (and not stored).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { cliCommand, runCli, tempHome } from "../helpers/cli.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const hasScript = spawnSync("script", ["--version"]).status === 0;

test("login on a terminal opens the local form and stores the submitted key", { skip: hasScript ? false : "util-linux `script` (for a pty) is not installed" }, async () => {
  const h = await tempHome();
  try {
    const key = "sk-ant-api03-formsubmitted0123456789";
    const logFile = join(h.home, "form.log");
    const { command, args } = cliCommand();
    const line = [command, ...args, "login", "anthropic", "--connection", "work"].map(quote).join(" ");
    const env = { ...process.env, ...h.env, BROWSER: `${process.platform === "win32" ? "node.exe" : "node"} ${join(repoRoot, "test/fixtures/fill-form.mjs")}`, FORM_KEY: key, FORM_FOREIGN_KEY: "sk-ant-api03-foreignpage0123456789", FORM_LOG: logFile, NO_COLOR: "1" };
    const output = await new Promise<{ code: number; text: string }>((resolve, reject) => {
      const child = spawn("script", ["-qec", line, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
      let text = "";
      child.stdout.on("data", (d) => (text += d));
      child.stderr.on("data", (d) => (text += d));
      child.on("error", reject);
      child.on("close", (code) => resolve({ code: code ?? -1, text }));
    });
    assert.equal(output.code, 0, output.text);
    assert.match(output.text, /Paste the API key into a one-time form on this machine:\r?\nOpening this URL in your browser:\r?\n  http:\/\/127\.0\.0\.1:\d+\/form\/[A-Za-z0-9_-]{20,}/);
    assert.ok(!output.text.includes(key), "the key is never echoed");
    assert.ok(!output.text.includes("foreignpage"), "the refused key is never echoed");
    const log = (await readFile(logFile, "utf8")).trim().split("\n");
    assert.deepEqual(log, ["get 200 has-password-field has-csrf", "favicon 404", "foreign 403 refused", "no-token 403 refused", "bad 422 hint-shown", "good 200 saved"]);
    const r = await runCli(["get", "anthropic", "--connection", "work", "--field", "api_key", "--show-secret"], { env: h.env });
    assert.equal(r.stdout, `${key}\n`);
  } finally {
    await h.cleanup();
  }
});
