/**
 * `providers add NAME` by the naming convention: a bare name that is no file and no bundled
 * provider is the npm package `authsome-plugin-NAME` (then NAME itself); the error names every
 * package tried; a bundled name is refused before npm is asked; full names are taken as they
 * are. npm is the real client, pointed at a loopback stand-in registry that serves the packed
 * fixture (npm_config_registry, a fresh npm cache): offline, nothing reaches registry.npmjs.org.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { collectOutput, runCli, tempHome } from "../helpers/cli.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const PACKAGE = "authsome-plugin-thingamajig";
let home: Awaited<ReturnType<typeof tempHome>>;
let dir: string;
let server: Server;
let env: Record<string, string>;
/** Paths the stand-in registry was asked for, in order. */
const seen: string[] = [];

/** A registry document (packument) for one version, as npm's registry serves it. */
function packument(origin: string, tarball: Buffer): string {
  const version = {
    name: PACKAGE,
    version: "1.2.3",
    dist: {
      tarball: `${origin}/${PACKAGE}/-/${PACKAGE}-1.2.3.tgz`,
      integrity: `sha512-${createHash("sha512").update(tarball).digest("base64")}`,
      shasum: createHash("sha1").update(tarball).digest("hex"),
    },
  };
  return JSON.stringify({ name: PACKAGE, "dist-tags": { latest: "1.2.3" }, versions: { "1.2.3": version } });
}

before(async () => {
  home = await tempHome();
  dir = await mkdtemp(join(tmpdir(), "authsome-npm-name-"));
  const pkg = join(dir, PACKAGE);
  cpSync(join(repoRoot, "test/fixtures/plugins/npm-plugin"), pkg, { recursive: true });
  const pack = await collectOutput(spawn("npm", ["pack", "--silent", "--pack-destination", dir], { cwd: pkg, stdio: ["ignore", "pipe", "pipe"] }));
  assert.equal(pack.code, 0, pack.stderr);
  const tarball = await readFile(join(dir, pack.stdout.trim().split("\n").at(-1) ?? ""));
  let origin = "";
  server = createServer((req, res) => {
    seen.push(req.url ?? "");
    if (req.url === `/${PACKAGE}`) return res.writeHead(200, { "content-type": "application/json" }).end(packument(origin, tarball));
    if (req.url === `/${PACKAGE}/-/${PACKAGE}-1.2.3.tgz`) return res.writeHead(200, { "content-type": "application/octet-stream" }).end(tarball);
    res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: "Not found" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A fresh cache: no registry document cached from elsewhere answers for the stand-in.
  env = { ...home.env, npm_config_registry: `${origin}/`, npm_config_cache: join(dir, "npm-cache"), npm_config_update_notifier: "false", npm_config_offline: "false" };
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await home.cleanup();
  await rm(dir, { recursive: true, force: true });
});

test("a bare name installs the npm package authsome-plugin-NAME", async () => {
  seen.length = 0;
  const r = await runCli(["providers", "add", "thingamajig"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(seen[0], `/${PACKAGE}`, seen.join(" "));
  const stored = JSON.parse(await readFile(join(home.home, "plugins", "thingamajig.json"), "utf8")) as { $source: string };
  assert.equal(stored.$source, `${PACKAGE}@1.2.3`);
});

test("providers test takes the same bare name", async () => {
  const r = await runCli(["providers", "test", "thingamajig", "--json", "--static"], { env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  // Only authsome-plugin-thingamajig exists on the stand-in (npm may answer from its cache now).
  assert.equal((JSON.parse(r.stdout) as { plugin: string }).plugin, "thingamajig");
});

test("the full package name keeps working, and is not prefixed again", async () => {
  seen.length = 0;
  const r = await runCli(["providers", "add", PACKAGE, "--force"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(seen.every((url) => url.startsWith(`/${PACKAGE}`)), seen.join(" "));
});

test("a name npm has under neither spelling: exit 4, both packages named", async () => {
  seen.length = 0;
  const r = await runCli(["providers", "add", "nosuch-widget"], { env });
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match(r.stderr, /^error: no plugin package for "nosuch-widget": npm has no "authsome-plugin-nosuch-widget" and "nosuch-widget"$/m);
  assert.match(r.stderr, /authsome-plugin-NAME or @scope\/authsome-plugin-NAME/);
  assert.deepEqual(seen.filter((url) => !url.includes("/-/")), ["/authsome-plugin-nosuch-widget", "/nosuch-widget"]);
});

test("a bundled provider's name is refused before npm is asked; with --force only the convention's package is tried", async () => {
  seen.length = 0;
  let r = await runCli(["providers", "add", "stripe"], { env });
  assert.equal(r.code, 7, r.stdout + r.stderr);
  assert.match(r.stderr, /^error: provider "stripe" is already bundled$/m);
  assert.deepEqual(seen, []);
  r = await runCli(["providers", "add", "stripe", "--force"], { env });
  assert.equal(r.code, 4, r.stdout + r.stderr);
  assert.match(r.stderr, /npm has no "authsome-plugin-stripe"$/m);
  assert.deepEqual(seen, ["/authsome-plugin-stripe"]);
});
