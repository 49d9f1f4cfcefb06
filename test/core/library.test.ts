/**
 * The library as agent code uses it: createAuthService(), profiles, getAccessToken().
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { AuthsomeError, createAuthService } from "../../src/index.ts";
import { tempHome } from "../helpers/cli.ts";

test("createAuthService: login, getAccessToken, profiles in code", async () => {
  const h = await tempHome();
  try {
    const auth = await createAuthService({ home: h.home });
    await auth.login("openai", { connection: "work", apiKey: "sk-library0000000000000000" });
    assert.equal(await auth.getAccessToken("openai", { connection: "work" }), "sk-library0000000000000000");
    assert.equal(await auth.getAccessToken("openai"), "sk-library0000000000000000", "the only connection is the default");
    const profile = await auth.createProfile("reviewer", { description: "Code review agent" });
    assert.equal(profile.name, "reviewer");
    const reviewer = await createAuthService({ home: h.home, profile: "reviewer" });
    await assert.rejects(reviewer.getAccessToken("openai"), (e: unknown) => e instanceof AuthsomeError && e.code === "connection_not_found");
    await assert.rejects(createAuthService({ home: h.home, profile: "ghost" }), (e: unknown) => e instanceof AuthsomeError && e.code === "profile_not_found");
    await assert.rejects(auth.login("openai", { connection: "bad name!", apiKey: "sk-x" }), (e: unknown) => e instanceof AuthsomeError && e.code === "usage");
    await auth.close();
    await reviewer.close();
  } finally {
    await h.cleanup();
  }
});
