// Host rules that cannot be abused (issue 10 part 4): linear-time matching, and rules wider than
// one provider refused when parsed. The CLI side (`providers add`) is test/cli/rules-abuse.test.ts.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { bundledPlugins } from "../../plugins/index.ts";
import { isPublicSuffix, regexBreadthProblem } from "../../src/core/rule-breadth.ts";
import { compileHostRegex, compileKeyPattern, loadRegexEngine, needsRegexEngine } from "../../src/core/rule-regex.ts";
import { parseHostRule, ruleMatches } from "../../src/core/rules.ts";
import { MATCH_ALL } from "../helpers/rule-cases.ts";

await loadRegexEngine();

describe("RE2 engine", () => {
  test("the catastrophic pattern (a+)+$ against long hosts returns at once", () => {
    const regex = compileHostRegex("(a+)+$");
    // Backtracking takes 2^n steps here (n = 40: minutes); RE2 takes n. A generous bound, and a
    // ratio: 4x the input must cost about 4x, not 2^(3n) times, so the test fails on any
    // backtracking engine long before the bound.
    const time = (n: number): number => {
      const host = `${"a".repeat(n)}!`;
      const start = performance.now();
      for (let i = 0; i < 50; i++) assert.equal(regex.test(host), false);
      return performance.now() - start;
    };
    time(40); // warm-up: the first calls include the engine's JIT
    const t40 = time(40);
    const t160 = time(160);
    assert.ok(t40 < 2000, `40 characters: ${t40.toFixed(1)} ms for 50 matches`);
    assert.ok(t160 < 2000, `160 characters: ${t160.toFixed(1)} ms for 50 matches`);
  });
  test("by construction: matching never enters JavaScript's RegExp engine", () => {
    const regex = compileHostRegex("(a+)+$");
    const key = compileKeyPattern("^(a+)+$");
    const proto = RegExp.prototype;
    const { exec, test: run } = proto;
    const entered: string[] = [];
    // Every way of running a RegExp (test, match, replace, split, search) goes through exec.
    proto.exec = function (this: RegExp, input: string) {
      entered.push(this.source);
      return exec.call(this, input);
    };
    proto.test = function (this: RegExp, input: string) {
      entered.push(this.source);
      return run.call(this, input);
    };
    try {
      assert.equal(regex.test(`${"a".repeat(40)}!`), false);
      assert.equal(regex.test("aaaa"), true);
      assert.equal(key.test(`${"a".repeat(40)}!`), false);
    } finally {
      proto.exec = exec;
      proto.test = run;
    }
    assert.deepEqual(entered, []);
  });
  test("(a+)+ as a rule is narrow: it loads, and matches only its hosts", () => {
    const rule = { host: "regex:(a+)+" };
    assert.equal(parseHostRule(rule.host).kind, "regex");
    assert.ok(ruleMatches(rule, new URL("https://aaaa/")));
    assert.ok(!ruleMatches(rule, new URL(`https://${"a".repeat(40)}b.example/`)));
  });
  test("hosts longer than DNS allows never match (bounds one match)", () => {
    const regex = compileHostRegex("[a.]+\\.example");
    assert.ok(regex.test(`${"a.".repeat(60)}example`));
    assert.ok(!regex.test(`${"a.".repeat(130)}example`));
  });
  test("backreferences and lookaround are refused with the reason", () => {
    assert.throws(() => parseHostRule("regex:(a)\\1\\.example"), /backreferences are not supported/);
    assert.throws(() => parseHostRule("regex:(?=api)\\w+\\.example\\.com"), /lookahead and lookbehind are not supported/);
    assert.throws(() => parseHostRule("regex:(?!x)\\w+\\.example\\.com"), /lookahead and lookbehind are not supported/);
    assert.throws(() => parseHostRule("regex:(?<=a)b\\.example\\.com"), /lookahead and lookbehind are not supported/);
    assert.throws(() => parseHostRule("regex:(api"), /invalid regex \(missing closing \): `\(api`\)/);
    assert.throws(() => parseHostRule(`regex:${"a".repeat(1025)}`), /longer than 1024/);
    assert.throws(() => parseHostRule("regex:a{1000}b{1000}c{1000}d{1000}e{1000}f{1000}g{1000}h{1000}i{1000}j{1000}k"), /too large/);
  });
  test("needsRegexEngine finds a regex rule in text or objects, and only then", () => {
    assert.ok(needsRegexEngine('{"inject":[{"host":"regex:^a$"}]}'));
    assert.ok(needsRegexEngine({ inject: [{ host: "REGEX:^a$" }] }));
    assert.ok(needsRegexEngine({ host_url: ["a.example", "regex:b"] }));
    assert.ok(!needsRegexEngine({ inject: [{ host: "api.example.com" }], apiKey: { pattern: "^sk-" } }));
  });
});

describe("rules wider than one provider", () => {
  test("every match-all regex variant is refused as matching any domain", () => {
    for (const pattern of MATCH_ALL) {
      const why = pattern === "(?:)" ? /matches the empty host name/ : /matches hosts of any domain \(e\.g\. "[^"]+"\)/;
      assert.throws(() => parseHostRule(`regex:${pattern}`), why, pattern);
    }
  });
  test("a regex covering a public suffix is refused, naming it", () => {
    const cases: [string, string][] = [
      [".*\\.com", "com"], ["[a-z0-9-]+\\.com", "com"], ["(?:[a-z]+\\.)+co\\.uk", "co.uk"],
      [".+\\.github\\.io", "github.io"], ["[a-z]{5}\\.com", "com"], ["(www\\.)?[^.]+\\.(com|net|org)", "com"],
      ["[a-z]+\\.localhost", "localhost"],
    ];
    for (const [pattern, suffix] of cases) {
      assert.throws(() => parseHostRule(`regex:${pattern}`), new RegExp(`every host under the public suffix "${suffix.replace(".", "\\.")}"`), pattern);
    }
  });
  test("a regex matching every IP address is refused", () => {
    assert.throws(() => parseHostRule("regex:\\d+\\.\\d+\\.\\d+\\.\\d+"), /IP addresses of any network/);
    assert.throws(() => parseHostRule("regex:[0-9a-f:]+"), /IP addresses of any network/);
  });
  test("a regex that lets its own domain be followed or wrapped by another is refused", () => {
    for (const pattern of [".*acme.*", "acme\\.example.*", "api\\.acme\\.example\\..+", "^api\\.acme\\.example(\\..*)?$", "(?:[a-z]+-)?acme\\.example.*", ".*acme\\.example", "[a-z-]*acme\\.example"]) {
      assert.throws(() => parseHostRule(`regex:${pattern}`), /matches hosts outside its own domain \(e\.g\. "[^"]*acme[^"]*\.[a-z]+"\)/, pattern);
    }
  });
  test("a bare '.' between letters is refused: api.stripe.com matches apixstripe.com", () => {
    assert.throws(() => parseHostRule("regex:api.stripe\\.com"), /unescaped "\." in "api\.stripe", which matches any character/);
    assert.throws(() => parseHostRule("regex:api\\.stripe.com"), /unescaped "\." in "stripe\.com"/);
    assert.throws(() => parseHostRule("regex:(api|uploads).github\\.com"), /unescaped "\." in "\(api\|uploads\)\.github"/);
    assert.doesNotThrow(() => parseHostRule("regex:[a.]x\\.stripe\\.com"), "a dot in a class is a dot");
    assert.doesNotThrow(() => parseHostRule("regex:(.*\\.)?stripe\\.com"), "a wildcard run before an escaped dot");
  });
  test("wildcards under a public suffix are refused; `*` is not a host", () => {
    for (const [host, suffix] of [["*.com", "com"], ["*.co.uk", "co.uk"], ["*.github.io", "github.io"], ["*.io", "io"], ["*.localhost", "localhost"]]) {
      assert.throws(() => parseHostRule(host ?? ""), new RegExp(`covers every host under the public suffix "${(suffix ?? "").replace(".", "\\.")}"`), host);
    }
    assert.throws(() => parseHostRule("*"), /only allowed as a leading/);
    assert.throws(() => parseHostRule("*.*.com"), /only allowed as a leading/);
  });
  test("narrow rules still load", () => {
    for (const host of [
      "regex:^api[0-9]+\\.example\\.com$", "regex:^(?:.*\\.forgeusercontent\\.example)$", "regex:[a-z0-9-]+\\.cdn\\.example\\.net",
      "regex:(api|uploads)\\.github\\.com", "regex:localhost", "regex:10\\.0\\.0\\.[0-9]+", "*.googleapis.com", "*.api.mailchimp.com", "*.example.co.uk",
    ]) {
      assert.doesNotThrow(() => parseHostRule(host), host);
    }
  });
  test("public suffixes: single labels and the built-in list", () => {
    assert.ok(isPublicSuffix("com") && isPublicSuffix("co.uk") && isPublicSuffix("github.io"));
    assert.ok(!isPublicSuffix("example.com") && !isPublicSuffix("googleapis.com"));
  });
  test("the probe set is fixed: the same verdict on every load", () => {
    const seen: string[] = [];
    regexBreadthProblem((host) => (seen.push(host), false));
    const again: string[] = [];
    regexBreadthProblem((host) => (again.push(host), false));
    assert.deepEqual(again, seen);
    assert.ok(seen.length > 300, `${seen.length} probes`);
    assert.equal(new Set(seen).size, seen.length, "probes are distinct");
  });
});

describe("API-key patterns", () => {
  test("RegExp.test's meaning, case-sensitive, on RE2", () => {
    assert.ok(compileKeyPattern("^sk-[A-Za-z0-9]{4,}$").test("sk-abcd"));
    assert.ok(!compileKeyPattern("^sk-[a-z]{4,}$").test("SK-abcd"));
    assert.ok(compileKeyPattern("sk-").test("xx sk-"), "unanchored as written, like RegExp.test");
    assert.throws(() => compileKeyPattern("^(?=sk)"), /lookahead and lookbehind are not supported/);
  });
  test("every bundled plugin's key pattern compiles on RE2", async () => {
    for (const [name, load] of Object.entries(bundledPlugins)) {
      const pattern = (await load()).default.apiKey?.pattern;
      if (pattern !== undefined) assert.doesNotThrow(() => compileKeyPattern(pattern), name);
    }
  });
});
