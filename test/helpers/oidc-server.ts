/**
 * The test side of the authorization server (test/helpers/oidc-provider-app.ts): start it,
 * read what it saw, introspect tokens like a resource server would, and write provider plugins
 * that point at it.
 */
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type OidcSettings, type OidcStats, startOidcApp, TEST_CLIENTS } from "./oidc-provider-app.ts";
import { repoRoot } from "./spawn-runtime.ts";

export { freePort } from "./ports.ts";

/** A running test authorization server. */
export interface TestOidcServer {
  issuer: string;
  stats(): Promise<OidcStats>;
  settings(patch: Partial<OidcSettings>): Promise<void>;
  /** RFC 7662 introspection as the resource server client. */
  introspect(token: string): Promise<{ active: boolean; client_id?: string; token_type?: string }>;
  close(): Promise<void>;
}

async function _control(issuer: string, path: string, body?: unknown): Promise<{ stats: OidcStats }> {
  const response = await fetch(`${issuer}/__test/${path}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) });
  return (await response.json()) as { stats: OidcStats };
}

/** Starts the server in this process (oidc-provider runs unchanged on Node 20 and Deno 2). */
export async function startOidcServer(options: { settings?: Partial<OidcSettings> } = {}): Promise<TestOidcServer> {
  const app = await startOidcApp(options.settings);
  const { issuer } = app;
  return {
    issuer,
    stats: async () => (await _control(issuer, "stats")).stats,
    settings: async (patch) => void (await _control(issuer, "settings", patch)),
    introspect: async (token) => {
      const basic = Buffer.from(`${TEST_CLIENTS.resourceServer}:${TEST_CLIENTS.resourceServerSecret}`).toString("base64");
      const response = await fetch(`${issuer}/token/introspection`, {
        method: "POST",
        headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ token }).toString(),
      });
      return (await response.json()) as { active: boolean; client_id?: string; token_type?: string };
    },
    close: app.close,
  };
}

/** Writes a provider plugin (JSON) pointing at the test server; returns its path. */
export async function writeTestPlugin(dir: string, issuer: string, name: string, extra: { flows: string[]; redirectUri?: string; oauth?: Record<string, unknown> }): Promise<string> {
  const plugin = {
    name,
    displayName: `Test ${name}`,
    authType: "oauth2",
    flows: extra.flows,
    oauth: {
      authorizationUrl: `${issuer}/auth`,
      tokenUrl: `${issuer}/token`,
      revocationUrl: `${issuer}/token/revocation`,
      deviceAuthorizationUrl: `${issuer}/device/auth`,
      scopes: ["openid", "api:read"],
      ...(extra.redirectUri === undefined ? {} : { redirectUri: extra.redirectUri }),
      ...extra.oauth,
    },
    inject: [{ host: `${name}.api.test` }],
    env: { [`${name.toUpperCase().replaceAll("-", "_")}_TOKEN`]: "access_token" },
  };
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(plugin, null, 2));
  return file;
}

/** Env that makes `$BROWSER` the scripted browser (test/fixtures/oauth-browser.mjs). */
export function browserEnv(log: string, mode: "approve" | "deny" | "wrong-state" = "approve"): Record<string, string> {
  return { BROWSER: `node ${join(repoRoot, "test/fixtures/oauth-browser.mjs")}`, OAUTH_LOG: log, OAUTH_MODE: mode };
}

/** Waits (polling the file) until the scripted browser has logged a line matching `pattern`. */
export async function waitForLog(file: string, pattern: RegExp, timeoutMs = 10_000): Promise<string[]> {
  const { readFile } = await import("node:fs/promises");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, "utf8").catch(() => "");
    if (pattern.test(text)) return text.trim().split("\n");
    if (Date.now() > deadline) throw new Error(`the browser never logged ${pattern}; it logged: ${JSON.stringify(text)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
