/**
 * The small pieces of src/mcp/: the Bearer challenge parser, the provider name from a host,
 * whether a resource covers an endpoint, mcp-remote's file hash, and the published client
 * metadata document kept equal to the one authsome serves its logins from.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { isInsufficientScope, parseBearerChallenge } from "../../src/mcp/challenge.ts";
import { clientMetadataDocument, DEFAULT_CLIENT_METADATA_URL } from "../../src/mcp/client-identity.ts";
import { parseServerUrl, resourceCovers, resourceMetadataUrls } from "../../src/mcp/discovery.ts";
import { mcpRemoteHash } from "../../src/mcp/import-mcp-remote.ts";
import { deriveName } from "../../src/mcp/provider.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

test("Bearer challenges: quoted and bare values, escapes, another scheme beside it", () => {
  assert.deepEqual(parseBearerChallenge('Bearer error="insufficient_scope", scope="mcp:read mcp:admin", resource_metadata="https://x.test/.well-known/oauth-protected-resource/mcp"'), {
    error: "insufficient_scope", scope: ["mcp:read", "mcp:admin"], resourceMetadata: "https://x.test/.well-known/oauth-protected-resource/mcp",
  });
  assert.deepEqual(parseBearerChallenge('Basic realm="a", Bearer error=invalid_token, error_description="say \\"no\\""'), { error: "invalid_token" });
  assert.deepEqual(parseBearerChallenge('Bearer realm="x", Basic realm="y"'), {});
  assert.equal(parseBearerChallenge("Basic realm=x"), null);
  assert.equal(parseBearerChallenge(null), null);
  assert.equal(isInsufficientScope(403, { error: "insufficient_scope" }), true);
  assert.equal(isInsufficientScope(403, { error: "invalid_token" }), false);
  assert.equal(isInsufficientScope(500, { error: "insufficient_scope" }), false);
});

test("provider names from hosts", () => {
  assert.equal(deriveName(new URL("https://mcp.example.com/mcp")), "example");
  assert.equal(deriveName(new URL("https://mcp.notion.com/sse")), "notion");
  assert.equal(deriveName(new URL("https://tools.example.test:8443/mcp")), "tools-example");
  assert.equal(deriveName(new URL("http://localhost:3000/mcp")), "localhost");
});

test("a resource covers an endpoint on its origin under its path; metadata URLs per RFC 9728 3.1", () => {
  assert.ok(resourceCovers("https://a.test/mcp", new URL("https://a.test/mcp")));
  assert.ok(resourceCovers("https://a.test/mcp", new URL("https://a.test/mcp/sse")));
  assert.ok(resourceCovers("https://a.test/", new URL("https://a.test/mcp")));
  assert.ok(!resourceCovers("https://a.test/mcp", new URL("https://a.test/mcpx")));
  assert.ok(!resourceCovers("https://b.test/mcp", new URL("https://a.test/mcp")));
  assert.deepEqual(resourceMetadataUrls(new URL("https://a.test/mcp")), ["https://a.test/.well-known/oauth-protected-resource/mcp", "https://a.test/.well-known/oauth-protected-resource"]);
  assert.deepEqual(resourceMetadataUrls(new URL("https://a.test/")), ["https://a.test/.well-known/oauth-protected-resource"]);
  assert.throws(() => parseServerUrl("http://mcp.example.com/mcp"), /reached over https/);
  assert.throws(() => parseServerUrl("https://u:p@mcp.example.com/mcp"), /user name or password/);
  assert.equal(parseServerUrl("http://127.0.0.1:3000/mcp#x").href, "http://127.0.0.1:3000/mcp");
});

test("mcp-remote's file name is the MD5 of the server URL (its getServerUrlHash)", () => {
  // md5("https://mcp.example.com/mcp"), computed independently (node -e with node:crypto).
  assert.equal(mcpRemoteHash("https://mcp.example.com/mcp"), "94baabe3c3fadb285b26c035e4e86046");
  assert.notEqual(mcpRemoteHash("https://mcp.example.com/mcp"), mcpRemoteHash("https://mcp.example.com/mcp", "https://mcp.example.com/"));
});

test("docs/mcp-client-metadata.json is the document authsome's default client id names", async () => {
  const published = JSON.parse(await readFile(join(repoRoot, "docs/mcp-client-metadata.json"), "utf8")) as unknown;
  assert.deepEqual(published, clientMetadataDocument(DEFAULT_CLIENT_METADATA_URL));
});
