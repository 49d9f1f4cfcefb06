// The response scrubber on its own: every form of a secret, every split point of a stream.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { describe, it } from "node:test";
import type { InjectionDecision } from "../../src/core/injector.ts";
import { validatePlugin } from "../../src/core/plugin-schema.ts";
import { REDACTED, REDACTED_IN_URL, createScrubber, decisionSecrets, redactionOf, scrubberFor, secretForms, type Scrubber } from "../../src/core/scrub.ts";

const SECRET = "sk-live/Ab+c=d?e&f 9";
const forms = {
  raw: SECRET,
  base64: Buffer.from(SECRET).toString("base64"),
  base64url: Buffer.from(SECRET).toString("base64url"),
  uri: encodeURIComponent(SECRET),
  form: new URLSearchParams({ k: SECRET }).toString().slice(2),
  hex: Buffer.from(SECRET).toString("hex"),
  HEX: Buffer.from(SECRET).toString("hex").toUpperCase(),
  json: JSON.stringify(SECRET).slice(1, -1),
  basic: Buffer.from(`user:${SECRET}`).toString("base64"),
};

function scrubber(): Scrubber {
  const s = createScrubber([SECRET]);
  assert.ok(s !== null);
  return s;
}

/** Everything a stream scrubber outputs for `pieces`. */
function streamed(s: Scrubber, pieces: Buffer[]): string {
  const stream = s.stream();
  const out = pieces.map((p) => stream.push(p));
  out.push(stream.end());
  return Buffer.concat(out).toString("latin1");
}

/** True when no form of SECRET (nor a base64 core of it) is left in `text`. */
function clean(text: string): boolean {
  return secretForms(SECRET).every((form) => !text.includes(form));
}

describe("scrub", () => {
  it("finds every form of a secret, and only replaces it", () => {
    const s = scrubber();
    for (const [name, form] of Object.entries(forms)) {
      const body = `{"echo":"${form}","n":1}`;
      const out = streamed(s, [Buffer.from(body, "latin1")]);
      assert.ok(out.includes(REDACTED), `${name}: ${out}`);
      assert.ok(clean(out), `${name}: ${out}`);
      assert.ok(out.startsWith('{"echo":"') && out.endsWith('","n":1}'), `${name}: the rest is kept: ${out}`);
    }
    assert.equal(streamed(s, [Buffer.from("nothing secret here")]), "nothing secret here");
  });

  it("catches a secret base64-encoded inside a longer value, at each alignment", () => {
    const s = scrubber();
    for (let pad = 0; pad < 6; pad += 1) {
      const blob = Buffer.from(`${"x".repeat(pad)}{"token":"${SECRET}"}`).toString("base64");
      const out = s.header("x-echo", blob);
      assert.ok(out.includes(REDACTED), `offset ${pad}`);
      // What is left decodes to nothing that holds the secret.
      assert.ok(!Buffer.from(out.replace(REDACTED, ""), "base64").toString("latin1").includes(SECRET));
    }
  });

  it("every split point of a body with every form gives the same output as one piece", () => {
    const s = scrubber();
    const body = Buffer.from(`a${Object.values(forms).join("|")}z`, "latin1");
    const whole = streamed(s, [body]);
    assert.ok(clean(whole));
    for (let cut = 0; cut <= body.length; cut += 1) {
      assert.equal(streamed(s, [body.subarray(0, cut), body.subarray(cut)]), whole, `cut at ${cut}`);
    }
    for (let a = 0; a < forms.raw.length + 2; a += 1) {
      for (let b = a; b < body.length; b += 7) {
        assert.equal(streamed(s, [body.subarray(0, a), body.subarray(a, b), body.subarray(b)]), whole, `cuts at ${a}, ${b}`);
      }
    }
    assert.equal(streamed(s, [...body].map((byte) => Buffer.from([byte]))), whole, "one byte at a time");
  });

  it("holds back only what could begin a secret", () => {
    const s = scrubber();
    const stream = s.stream();
    assert.equal(stream.push(Buffer.from("data: one\n\n")).toString(), "data: one\n\n", "an SSE event is passed on at once");
    assert.equal(stream.holding, false);
    assert.equal(stream.push(Buffer.from("data: sk-li")).toString(), "data: ");
    assert.equal(stream.holding, true);
    assert.equal(stream.push(Buffer.from("ve/Ab+c=d?e&f 9\n\n")).toString(), `${REDACTED}\n\n`);
    assert.equal(stream.push(Buffer.from("sk-li")).toString(), "");
    assert.equal(stream.end().toString(), "sk-li", "a prefix that never completed is released at the end");
  });

  it("headers: a Location gets a marker that keeps it a URL", () => {
    const s = scrubber();
    assert.equal(s.header("Location", `https://evil.test/?key=${forms.uri}&x=1`), `https://evil.test/?key=${REDACTED_IN_URL}&x=1`);
    assert.equal(s.header("Set-Cookie", `echo=${forms.base64}; Path=/`), `echo=${REDACTED}; Path=/`);
    assert.equal(s.header("x-plain", "unrelated"), "unrelated");
  });

  it("takes the secrets out of what a decision injects (Bearer, Basic, query)", () => {
    const basic = `Basic ${Buffer.from("alice:pa55word-long").toString("base64")}`;
    const stripe = `Basic ${Buffer.from("sk_test_stripe_key:").toString("base64")}`;
    const decision: InjectionDecision = { provider: "p", connection: "c", headers: { authorization: "Bearer tok-123456789", "x-basic": basic, "x-stripe": stripe }, query: { key: "query-secret" } };
    const secrets = decisionSecrets(decision);
    for (const expected of ["tok-123456789", "pa55word-long", "alice:pa55word-long", "sk_test_stripe_key", "query-secret"]) assert.ok(secrets.includes(expected), expected);
    assert.ok(!secrets.includes("alice"), "a user name with a password is not a secret");
    assert.equal(createScrubber(["short"]), null, "values under 8 characters are not scrubbed");
  });

  it("scrubberFor: none without a decision, none when the rule opted out, one per decision", () => {
    const decision: InjectionDecision = Object.freeze({ provider: "p", connection: "c", headers: { authorization: "Bearer tok-123456789" }, query: {} });
    assert.equal(scrubberFor(null), null);
    assert.equal(scrubberFor({ ...decision, scrub: false }), null);
    assert.ok(scrubberFor(decision) !== null);
    assert.equal(scrubberFor(decision), scrubberFor(decision));
  });

  it("same-length markers keep a body's length, whatever the match's length", () => {
    const s = scrubber();
    for (const form of Object.values(forms)) {
      const body = Buffer.from(`<${form}>`, "latin1");
      const stream = s.stream(true);
      const out = Buffer.concat([stream.push(body), stream.end()]).toString("latin1");
      assert.equal(out.length, body.length);
      assert.ok(clean(out) && /\[(authsome:)?redacted\]|^<\*+>$/.test(out), out);
    }
    assert.equal(redactionOf(8), "********");
    assert.equal(redactionOf(12), "[redacted]**");
    assert.equal(redactionOf(21), `${REDACTED}**`);
  });

  it("the plugin schema takes scrub: false on a rule and refuses other types", () => {
    const plugin = validatePlugin({ name: "keys", authType: "api_key", inject: [{ host: "keys.example.com", scrub: false }] }, "./keys.json");
    assert.equal(plugin.inject[0]?.scrub, false);
    assert.throws(() => validatePlugin({ name: "keys", authType: "api_key", inject: [{ host: "keys.example.com", scrub: "no" }] }, "./keys.json"), /inject\[0\]\.scrub/);
  });
});
