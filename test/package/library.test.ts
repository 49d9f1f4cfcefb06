/**
 * The library from the installed package: `import { createAuthService } from "authsome-broker"`
 * in a consumer project's own script, on the runtime the test runs on.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";
import { consumerScratch, packageSkip, runConsumerScript } from "../helpers/package.ts";

let home: Awaited<ReturnType<typeof tempHome>>;
before(async () => {
  home = await tempHome();
});
after(() => home.cleanup());

const script = `
import { AuthsomeError, createAuthService } from "authsome-broker";
const auth = await createAuthService();
await auth.login("openai", { connection: "work", apiKey: "sk-library-0000000000000000" });
const token = await auth.getAccessToken("openai", { connection: "work" });
let missing = null;
try {
  await auth.getAccessToken("anthropic");
} catch (error) {
  missing = { isAuthsomeError: error instanceof AuthsomeError, code: error.code };
}
await auth.createProfile("reviewer", { description: "Code review agent" });
const profiles = (await auth.listProfiles()).map((p) => p.name);
await auth.close();
console.log(JSON.stringify({ token, missing, profiles }));
`;

test("createAuthService from the installed package logs in, reads a token, and fails with coded errors", { skip: packageSkip }, async () => {
  const dir = await consumerScratch("library");
  const r = await runConsumerScript(dir, script, home.env);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "") as { token: string; missing: { isAuthsomeError: boolean; code: string }; profiles: string[] };
  assert.equal(out.token, "sk-library-0000000000000000");
  assert.deepEqual(out.missing, { isAuthsomeError: true, code: "connection_not_found" });
  assert.deepEqual(out.profiles.sort(), ["default", "reviewer"]);
  // The CLI reads what the library stored: one home, one vault.
  const got = await runCli(["get", "openai", "--connection", "work", "--field", "api_key", "--show-secret"], { env: home.env });
  assert.equal(got.stdout.trim(), "sk-library-0000000000000000", got.stderr);
});
