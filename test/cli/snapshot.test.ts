/**
 * One snapshot per command (issue 11, part 2): `get` reads the default pointer once, so while
 * `authsome default` switches it, the connection a `get` picked as the default is always shown
 * as the default. 20 processes race through the installed CLI.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCli, tempHome } from "../helpers/cli.ts";

test("20 processes racing on `default` with concurrent gets: never a torn state", async () => {
  const h = await tempHome();
  try {
    for (const name of ["a", "b"]) {
      const r = await runCli(["login", "openai", "--connection", name], { env: h.env, input: `sk-snapshot-${name}-00000000000000000000` });
      assert.equal(r.code, 0, r.stderr);
    }
    let torn = 0;
    let gets = 0;
    for (let round = 0; round < 2; round++) {
      const racers = Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0 ? runCli(["default", "openai", i % 4 === 0 ? "a" : "b"], { env: h.env }) : runCli(["get", "openai", "--json"], { env: h.env }),
      );
      for (const [i, r] of (await Promise.all(racers)).entries()) {
        assert.equal(r.code, 0, `racer ${i}: ${r.stderr}`);
        if (i % 2 === 0) continue;
        gets++;
        const view = JSON.parse(r.stdout) as { connection: string; is_default: boolean };
        assert.ok(view.connection === "a" || view.connection === "b");
        if (!view.is_default) torn++;
      }
    }
    assert.equal(gets, 20);
    assert.equal(torn, 0, `${torn} of ${gets} gets showed the default connection as not the default`);
  } finally {
    await h.cleanup();
  }
});
