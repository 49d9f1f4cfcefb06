/**
 * Path injection and pair halves (rules.ts, egress.ts, scrub.ts, plugin-schema.ts): a rule
 * `in: "path"` replaces the run's placeholder in a path segment (Telegram's `/bot<token>/`) and
 * nothing else; `{token.0}`/`{token.1}` render the halves of a `KEY:TOKEN` pair (Trello); the
 * scrubber knows each half and the path token; the schema refuses what a path rule cannot use.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createAuthService, type AuthService } from "../../src/core/auth-service.ts";
import { decideEgress } from "../../src/core/egress.ts";
import { AuthsomeError } from "../../src/core/errors.ts";
import { createInjector } from "../../src/core/inject.ts";
import type { Injector } from "../../src/core/injector.ts";
import { validatePlugin } from "../../src/core/plugin-schema.ts";
import { renderInjection } from "../../src/core/rules.ts";
import { decisionSecrets } from "../../src/core/scrub.ts";
import { createTripwire, type Tripwire } from "../../src/core/tripwire.ts";
import { tempHome } from "../helpers/cli.ts";

const TOKEN = "123456789:AAHreal-bot-token_000000000000000000";
const PLACEHOLDER = "987654321:authsome-placeholder000000000000";
const PAIR = `${"a".repeat(32)}:ATTA${"b".repeat(64)}`;

describe("renderInjection: path and pair halves", () => {
  test("a path rule renders the token as the segment's rest", () => {
    assert.deepEqual(renderInjection({ host: "h", in: "path", name: "bot" }, { api_key: TOKEN }), { headers: {}, query: {}, path: { prefix: "bot", value: TOKEN } });
  });
  test("a token that would change the path is refused, naming no value", () => {
    assert.throws(() => renderInjection({ host: "h", in: "path", name: "bot" }, { api_key: "123:abc/../x" }), (e: unknown) => e instanceof AuthsomeError && e.code === "record_invalid" && !e.message.includes("abc"));
  });
  test("{token.0} and {token.1} are the halves around the first colon", () => {
    const rule = { host: "h", format: 'OAuth oauth_consumer_key="{token.0}", oauth_token="{token.1}"' };
    assert.equal(renderInjection(rule, { api_key: "key0:tok:en1" }).headers.authorization, 'OAuth oauth_consumer_key="key0", oauth_token="tok:en1"');
    assert.throws(() => renderInjection(rule, { api_key: "no-colon" }), (e: unknown) => e instanceof AuthsomeError && e.code === "credential_missing" && /"token\.0"/.test(e.message));
  });
  test("the scrubber learns each auth-param value and the path token", () => {
    const header = `OAuth oauth_consumer_key="${"a".repeat(32)}", oauth_token="ATTA${"b".repeat(64)}"`;
    const secrets = decisionSecrets({ provider: "trello", connection: "default", headers: { authorization: header }, query: {} });
    assert.ok(secrets.includes("a".repeat(32)) && secrets.includes(`ATTA${"b".repeat(64)}`), secrets.join(" "));
    assert.ok(decisionSecrets({ provider: "t", connection: "d", headers: {}, query: {}, path: { prefix: "bot", value: TOKEN } }).includes(TOKEN));
  });
});

describe("validatePlugin: in: \"path\"", () => {
  const plugin = (rule: Record<string, unknown>) => ({ name: "tg", authType: "api_key", inject: [{ host: "api.tg.example", ...rule }] });
  const refused = (rule: Record<string, unknown>, field: string, problem: RegExp) =>
    assert.throws(() => validatePlugin(plugin(rule), "./tg.json"), (e: unknown) => e instanceof AuthsomeError && e.message.startsWith(`plugin ./tg.json: field "${field}": `) && problem.test(e.message));
  test("accepted with a segment start", () => {
    assert.equal(validatePlugin(plugin({ in: "path", name: "bot" }), "./tg.json").inject[0]?.in, "path");
    assert.equal(validatePlugin(plugin({ format: "OAuth k=\"{token.0}\", t=\"{token.1}\"" }), "./tg.json").inject[0]?.format?.includes("{token.1}"), true);
  });
  test("refused: no name, a name that is not a segment start, a format", () => {
    refused({ in: "path" }, "inject[0].name", /required for in: "path"/);
    refused({ in: "path", name: "bot!" }, "inject[0].name", /letters, digits/);
    refused({ in: "path", name: "bot", format: "{token}" }, "inject[0].format", /not used with in: "path"/);
    refused({ format: "{token.2}" }, "inject[0].format", /unknown placeholder \{token\.2\}/);
  });
});

describe("decideEgress: a path rule replaces only the run's placeholder", () => {
  let home: Awaited<ReturnType<typeof tempHome>>;
  let service: AuthService;
  let injector: Injector;
  let tripwire: Tripwire;
  before(async () => {
    home = await tempHome();
    const file = join(home.home, "tg.json");
    await writeFile(file, JSON.stringify({ name: "tg", authType: "api_key", inject: [{ host: "api.tg.example", in: "path", name: "bot" }], env: { TG_TOKEN: "api_key" } }));
    service = await createAuthService({ home: home.home });
    await service.installProvider(file);
    await service.login("tg", { apiKey: TOKEN });
    injector = createInjector(service.core);
    tripwire = createTripwire(service.core, { placeholders: async () => ({ tg: PLACEHOLDER }) });
  });
  after(async () => {
    injector.close?.();
    tripwire.close();
    await service.close();
    await home.cleanup();
  });
  const decide = (path: string, withTripwire = true) => {
    const url = new URL(`https://api.tg.example${path}`);
    return decideEgress(injector, { method: "GET", url, rawPath: path, rawHeaders: [], form: "wire", authority: "api.tg.example", ...(withTripwire ? { tripwire } : {}) });
  };

  test("the placeholder segment (also with %3A) becomes the token; the file path form too", async () => {
    for (const [sent, expected] of [[`/bot${PLACEHOLDER}/getMe`, `/bot${TOKEN}/getMe`], [`/bot${PLACEHOLDER.replace(":", "%3A")}/getMe?x=1`, `/bot${TOKEN}/getMe?x=1`], [`/file/bot${PLACEHOLDER}/photos/a.jpg`, `/file/bot${TOKEN}/photos/a.jpg`]] as const) {
      const result = await decide(sent);
      assert.equal(result.decision.action, "inject", sent);
      assert.equal(result.path, expected);
    }
  });
  test("no placeholder segment, another token, a segment that only starts with it, no tripwire: sent unchanged, nothing injected", async () => {
    for (const sent of ["/botOWN:token/getMe", `/bot${PLACEHOLDER}x/getMe`, `/x${PLACEHOLDER}/getMe`, "/getMe"]) {
      const result = await decide(sent);
      assert.deepEqual([result.decision.action, result.path, result.injection], ["pass", sent, null], sent);
    }
    const inProcess = await decide(`/bot${PLACEHOLDER}/getMe`, false);
    assert.deepEqual([inProcess.decision.action, inProcess.path], ["pass", `/bot${PLACEHOLDER}/getMe`]);
    // The interceptor's tripwire has no placeholders: nothing to replace, nothing injected.
    const none = createTripwire(service.core);
    const url = new URL(`https://api.tg.example/bot${PLACEHOLDER}/getMe`);
    const intercepted = await decideEgress(injector, { method: "GET", url, rawHeaders: [], form: "fetch", tripwire: none });
    none.close();
    assert.deepEqual([intercepted.decision.action, intercepted.url.pathname], ["pass", `/bot${PLACEHOLDER}/getMe`]);
  });
  test("the placeholder to another host trips (403)", async () => {
    const url = new URL(`https://evil.example/bot${PLACEHOLDER}/getMe`);
    const result = await decideEgress(injector, { method: "GET", url, rawPath: url.pathname, rawHeaders: [], form: "wire", authority: "evil.example", tripwire });
    assert.equal(result.decision.action === "deny" ? result.decision.status : 0, 403);
  });
});
