/**
 * The tripwire's matcher (core/tripwire-scan.ts) finds what one global regex of every form
 * would (leftmost, longest there, the search going on after an allowed match) and holds back
 * the same tails, on short texts (the start index) and long ones (the regex itself).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { secretForms } from "../../src/core/scrub.ts";
import { Matcher, type Needle } from "../../src/core/tripwire-scan.ts";

const ALPHABET = "abAB01+/=%:-_x\u00e9";
const pick = (n: number): number => Math.floor(Math.random() * n);
const text = (n: number): string => Array.from({ length: n }, () => ALPHABET[pick(ALPHABET.length)]).join("");

/** The matcher as it was: one alternation of the forms, longest first. */
function reference(owners: Map<string, Needle>, body: string, allowed: (p: string) => boolean, end: number): { needle: Needle; index: number } | null {
  const forms = [...owners.keys()].sort((a, b) => b.length - a.length);
  const regex = new RegExp(forms.map((f) => f.replace(/[\\^$.*+?()[\]{}|/-]/g, "\\$&")).join("|"), "g");
  for (let match = regex.exec(body); match !== null && match.index < end; match = regex.exec(body)) {
    const needle = owners.get(match[0]);
    if (needle !== undefined && !allowed(needle.provider)) return { needle, index: match.index };
  }
  return null;
}

function referenceHeld(owners: Map<string, Needle>, body: string): number {
  const forms = [...owners.keys()];
  const longest = Math.max(...forms.map((f) => f.length));
  for (let p = Math.max(0, body.length - longest + 1); p < body.length; p += 1) {
    const rest = body.slice(p);
    if (forms.some((form) => form.length > rest.length && form.startsWith(rest))) return p;
  }
  return body.length;
}

test("finds and holds back as one regex of the forms would", () => {
  let found = 0;
  for (let trial = 0; trial < 300; trial += 1) {
    const owners = new Map<string, Needle>();
    const secrets = Array.from({ length: 1 + pick(4) }, () => text(8 + pick(20)));
    // One value holding another, as `Bearer k` holds `k`.
    if (pick(3) === 0) secrets.push(`${secrets[0] ?? ""}${text(3)}`);
    secrets.forEach((secret, i) => {
      for (const form of secretForms(secret)) if (!owners.has(form)) owners.set(form, { provider: `p${i % 3}`, kind: "secret" });
    });
    const matcher = new Matcher(owners, new Map());
    const forms = [...owners.keys()];
    for (let k = 0; k < 20; k += 1) {
      let body = (pick(5) === 0 ? text(16_400) : "") + text(pick(60));
      for (let j = pick(3); j > 0; j -= 1) {
        const form = forms[pick(forms.length)] ?? "";
        body += (pick(3) === 0 ? form.slice(0, 1 + pick(form.length)) : form) + text(pick(10));
      }
      const form = forms[pick(forms.length)] ?? "";
      if (pick(2) === 0) body += form.slice(0, 1 + pick(form.length - 1));
      const allowedSet = new Set(["p0", "p1", "p2"].filter(() => pick(2) === 0));
      const allowed = (p: string): boolean => allowedSet.has(p);
      const end = pick(4) === 0 ? pick(body.length + 1) : body.length;
      const expected = reference(owners, body, allowed, end);
      if (expected !== null) found += 1;
      assert.deepEqual(matcher.find(body, allowed, end), expected, JSON.stringify(body.slice(-200)));
      assert.equal(matcher.heldFrom(body), referenceHeld(owners, body));
    }
  }
  assert.ok(found > 100, `only ${found} texts held a needle`);
});

test("no needle: nothing found, nothing held", () => {
  const matcher = new Matcher(new Map(), new Map());
  assert.equal(matcher.empty, true);
  assert.equal(matcher.find("anything at all", () => false), null);
  assert.equal(matcher.heldFrom("anything"), 8);
});
