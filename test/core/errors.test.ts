/**
 * Every error code is documented in docs/cli.md with its exit code and HTTP status, and the
 * exit codes follow design.md's table.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { AuthsomeError, ERROR_CODES } from "../../src/core/errors.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

test("every error code is documented with its exit code and HTTP status", async () => {
  const doc = await readFile(join(repoRoot, "docs/cli.md"), "utf8");
  for (const [code, { exit, status }] of Object.entries(ERROR_CODES)) {
    const row = new RegExp(`^\\| \`${code}\` \\| ${exit} \\| ${status} \\|`, "m");
    assert.match(doc, row, `docs/cli.md documents ${code} (exit ${exit}, HTTP ${status})`);
  }
});

test("exit codes follow the design's table", () => {
  const exit = (code: keyof typeof ERROR_CODES) => new AuthsomeError(code, "x").exitCode;
  assert.equal(exit("usage"), 2);
  assert.equal(exit("connection_not_found"), 3);
  assert.equal(exit("provider_not_found"), 4);
  assert.equal(exit("needs_login"), 5);
  assert.equal(exit("connection_exists"), 6);
  assert.equal(exit("provider_exists"), 7);
  assert.equal(exit("endpoint_unreachable"), 8);
  assert.equal(exit("daemon_unavailable"), 9);
});
