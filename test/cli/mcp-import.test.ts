/**
 * `authsome mcp import mcp-remote`: real tokens (from a login in another home) written the way
 * mcp-remote writes them (`~/.mcp-auth/mcp-remote-<version>/<md5(url)>_tokens.json` and
 * `_client_info.json`) are moved into the vault and keep working (a refresh succeeds); a file
 * whose hash matches no known server, or a refresh token without its client, is refused with
 * the reason; the imported plaintext files are listed for deletion.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type McpAuthServer, startMcpAuth } from "../helpers/mcp-auth.ts";
import { type McpHome, startMcpHome } from "../helpers/mcp-home.ts";
import { startMcpServer, type TestMcpServer } from "../helpers/mcp-server.ts";

let auth: McpAuthServer;
let mcp: TestMcpServer;
let home: McpHome;
let other: McpHome;

before(async () => {
  auth = await startMcpAuth({ resources: () => [mcp.url] });
  mcp = await startMcpServer({ auth });
  home = await startMcpHome([mcp]);
  other = await startMcpHome([mcp]);
  for (const h of [home, other]) {
    const r = await h.login(mcp.url);
    assert.equal(r.code, 0, r.stderr);
  }
});
after(async () => {
  await home?.cleanup();
  await other?.cleanup();
  await mcp?.close();
  await auth?.close();
});

const md5 = (text: string) => createHash("md5").update(text).digest("hex");

test("mcp-remote's token files are imported, refused with reasons, and listed for deletion", async () => {
  const view = JSON.parse((await other.cli(["get", "example", "--show-secret", "--json"])).stdout) as { client_id: string; secrets: { access_token: string; refresh_token: string } };
  const dir = join(home.home.home, "mcp-auth", "mcp-remote-0.1.38");
  await mkdir(dir, { recursive: true });
  const hash = md5(mcp.url);
  const tokens = join(dir, `${hash}_tokens.json`);
  const client = join(dir, `${hash}_client_info.json`);
  await writeFile(tokens, JSON.stringify({ access_token: view.secrets.access_token, token_type: "Bearer", expires_in: 3600, refresh_token: view.secrets.refresh_token, scope: "mcp:read" }, null, 2));
  await writeFile(client, JSON.stringify({ client_id: view.client_id, redirect_uris: ["http://localhost:3334/oauth/callback"] }, null, 2));
  const unknown = join(dir, `${md5("https://unknown.example.test/mcp")}_tokens.json`);
  await writeFile(unknown, JSON.stringify({ access_token: "x", refresh_token: "y" }));
  const r = await home.cli(["mcp", "import", "mcp-remote", "--dir", join(home.home.home, "mcp-auth"), "--connection", "imported", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { imported: { provider: string; connection: string }[]; refused: { file: string; reason: string }[]; deletable: string[] };
  assert.deepEqual(report.imported.map((i) => [i.provider, i.connection]), [["example", "imported"]]);
  assert.deepEqual(report.refused.map((x) => x.file), [unknown]);
  assert.match(report.refused[0]?.reason ?? "", /keeps only a hash of the server URL/);
  assert.deepEqual(report.deletable.sort(), [client, tokens].sort());
  assert.ok(!r.stdout.includes(view.secrets.access_token), "no token in the report");
  const stored = await home.cli(["get", "example", "--connection", "imported", "--field", "access_token", "--show-secret"]);
  assert.equal(stored.stdout.trim(), view.secrets.access_token);
  // The imported refresh token and client work: a forced refresh succeeds.
  const refreshed = await home.cli(["get", "example", "--connection", "imported", "--field", "access_token", "--show-secret"], { env: { AUTHSOME_REFRESH_MARGIN: "7200" } });
  assert.equal(refreshed.code, 0, refreshed.stderr);
  assert.notEqual(refreshed.stdout.trim(), view.secrets.access_token);
  const human = await home.cli(["mcp", "import", "mcp-remote", "--dir", join(home.home.home, "mcp-auth"), "--connection", "imported"]);
  assert.match(human.stdout, /already has a connection "imported"/);
});
