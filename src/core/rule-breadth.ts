/**
 * How wide a host rule may be. A rule names one provider's hosts; a rule that covers every host,
 * or every host under a public suffix (`*.com`, `*.co.uk`, `*.github.io`, `regex:.*`), would hand
 * the credential to whichever host an agent names, and anyone can register a name there. Such a
 * rule is refused when the plugin loads (src/core/rules.ts `parseHostRule`).
 *
 * Wildcards are checked against a public-suffix list. A regex cannot be read for its meaning, so
 * it is tested against probe hosts: names generated from a fixed seed under many unrelated TLDs
 * (real and made up), under every listed public suffix, and IP addresses. A rule for one
 * provider matches none of them; a pattern that matches any one matches a name nobody vetted,
 * and is refused with that name as the example. This catches patterns that cover a noticeable
 * share of names (`.*`, `.+`, `[\s\S]*`, `(.*)`, `^.*$`, `.*?`, `(?:)`, `[a-z0-9.-]+\.com`,
 * `\d+\.\d+\.\d+\.\d+`). Two checks read the pattern itself: its literal words are put in front
 * of and inside random domains (`acme\.example.*` matches `acme.example.<random>.net`), and a
 * bare `.` between letters (`api.stripe\.com` matches `apixstripe.com`) is refused. None of this
 * can prove a pattern narrow: a pattern confined to a shape no probe takes passes. That is a check against careless rules, not against a plugin author who
 * means harm (such an author can name their own host outright).
 */

// A small built-in subset of the Public Suffix List (publicsuffix.org): common country
// second levels and the hosting platforms where anyone gets a subdomain. Every single-label
// name counts as a public suffix too (the list's default `*` rule), see isPublicSuffix.
const LISTED_SUFFIXES = [
  "co.uk", "org.uk", "me.uk", "ltd.uk", "plc.uk", "net.uk", "ac.uk", "gov.uk", "sch.uk",
  "com.au", "net.au", "org.au", "edu.au", "gov.au", "id.au", "co.nz", "net.nz", "org.nz",
  "co.jp", "ne.jp", "or.jp", "ac.jp", "go.jp", "co.kr", "or.kr", "ne.kr", "com.cn", "net.cn",
  "org.cn", "gov.cn", "edu.cn", "com.tw", "org.tw", "com.hk", "org.hk", "com.sg", "com.my",
  "co.in", "net.in", "org.in", "gov.in", "co.za", "org.za", "web.za", "com.br", "net.br",
  "org.br", "gov.br", "com.mx", "org.mx", "com.ar", "com.co", "com.pe", "com.tr", "org.tr",
  "com.ua", "co.il", "org.il", "co.id", "or.id", "web.id", "com.ph", "com.vn", "com.pk",
  "com.eg", "com.sa", "co.th", "in.th", "com.pl", "net.pl", "org.pl", "co.at", "or.at",
  "com.es", "com.pt", "com.gr", "com.ru", "org.ru", "co.ke", "com.ng", "eu.org",
  "github.io", "githubusercontent.com", "gitlab.io", "herokuapp.com", "appspot.com",
  "blogspot.com", "cloudfront.net", "s3.amazonaws.com", "elasticbeanstalk.com",
  "azurewebsites.net", "cloudapp.net", "azurestaticapps.net", "web.app", "firebaseapp.com",
  "netlify.app", "vercel.app", "pages.dev", "workers.dev", "r2.dev", "fly.dev", "onrender.com",
  "ngrok.io", "ngrok-free.app", "glitch.me", "repl.co", "surge.sh", "trycloudflare.com",
  "duckdns.org", "dyndns.org", "no-ip.org", "readthedocs.io", "bitbucket.io",
];
const PUBLIC_SUFFIXES = new Set(LISTED_SUFFIXES);

// Top-level names probed for regexes (every TLD is a public suffix, but a probe needs names).
const PROBE_TLDS = [
  "com", "net", "org", "io", "dev", "app", "ai", "co", "me", "info", "biz", "xyz", "us", "uk",
  "de", "fr", "jp", "cn", "ru", "in", "br", "au", "ca", "eu", "nl", "it", "es", "ch", "se",
  "no", "pl", "kr", "tw", "hk", "sg", "nz", "za", "mx", "ar", "tr", "ua", "il", "id", "ir",
  "cloud", "online", "site", "tech", "store", "top", "sh", "gg", "ly", "to", "tv", "cc",
  "local", "localhost", "internal", "lan", "home", "corp", "test", "invalid", "example", "arpa",
];
// Suffixes where length-narrowed patterns (`[a-z]{5}\.com`) are worth a sweep of label lengths.
const SWEPT = ["com", "net", "org", "io", "co.uk"];

/** True for a public suffix: a single-label name (a TLD) or one on the built-in list. */
export function isPublicSuffix(host: string): boolean {
  return !host.includes(".") || PUBLIC_SUFFIXES.has(host);
}

/** Why `*.<parent>` is too wide, or null. */
export function wildcardProblem(parent: string): string | null {
  if (!isPublicSuffix(parent)) return null;
  return `"*.${parent}" covers every host under the public suffix "${parent}": name the provider's own domain`;
}

/**
 * Why a host regex is too wide (with a probe host it matched), or null. `pattern`, when given,
 * adds probes built from its own literal words: `acme\.example.*` or `.*acme.*` match
 * `acme.example.<random>.net`, a host under someone else's domain.
 */
export function regexBreadthProblem(test: (host: string) => boolean, pattern?: string): string | null {
  const dot = pattern === undefined ? null : _unescapedDot(pattern);
  if (dot !== null) return `has an unescaped "." in "${dot}", which matches any character (write "\\.")`;
  for (const probe of _probes()) {
    if (!test(probe.host)) continue;
    const what = probe.suffix === undefined ? "hosts of any domain" : probe.suffix === "ip" ? "IP addresses of any network" : `every host under the public suffix "${probe.suffix}"`;
    return `matches ${what} (e.g. "${probe.host}"): name the provider's own hosts`;
  }
  for (const host of pattern === undefined ? [] : _fragmentProbes(pattern)) {
    if (test(host)) return `matches hosts outside its own domain (e.g. "${host}"): write the provider's domain last, after a "\\."`;
  }
  // `(?:)`, `a*`: a pattern that matches the empty name was meant to match anything (it did
  // when rules were substring matches); as a full match it names no host.
  if (test("")) return "matches the empty host name (a rule's regex must match whole host names)";
  return null;
}

interface Probe {
  host: string;
  /** The public suffix the probe lies under; "ip" for addresses; undefined for made-up TLDs. */
  suffix?: string;
}

let probeCache: Probe[] | undefined;

/** The probe hosts, generated once from a fixed seed, so a verdict never changes between loads. */
function _probes(): Probe[] {
  if (probeCache !== undefined) return probeCache;
  const r = _random(0x5eed_a117);
  const out: Probe[] = [];
  // Names under made-up TLDs first: `.*` is then reported as "any domain", not as ".com".
  for (let i = 0; i < 12; i++) {
    const tld = _label(r, 3, 8, false);
    out.push({ host: `${_label(r, 1, 20, true)}.${tld}` }, { host: `${_label(r, 1, 12, true)}.${_label(r, 2, 12, false)}.${tld}` }, { host: tld });
  }
  for (const suffix of [...PROBE_TLDS, ...LISTED_SUFFIXES]) {
    out.push(
      { host: `${_label(r, 4, 10, false)}.${suffix}`, suffix },
      { host: `${_label(r, 1, 24, true)}.${suffix}`, suffix },
      { host: `${_label(r, 1, 10, true)}.${_label(r, 3, 10, false)}.${suffix}`, suffix },
    );
  }
  for (const suffix of SWEPT) for (let n = 1; n <= 16; n++) out.push({ host: `${_label(r, n, n, false)}.${suffix}`, suffix });
  for (let i = 0; i < 8; i++) out.push({ host: Array.from({ length: 4 }, () => String(Math.floor(r() * 256))).join("."), suffix: "ip" });
  for (let i = 0; i < 4; i++) {
    const groups = Array.from({ length: 8 }, () => Math.floor(r() * 0x10000).toString(16)).join(":");
    out.push({ host: new URL(`https://[${groups}]/`).hostname.slice(1, -1), suffix: "ip" });
  }
  return (probeCache = out);
}

/**
 * Hosts that put the pattern's literal words (`acme.example` from `acme\.example`) inside or in
 * front of a random, unrelated domain, or glue a random name onto their front. Literal words are read crudely (escapes unescaped,
 * classes, groups' flags and repeated characters skipped): a missed word only means fewer probes.
 */
function _fragmentProbes(pattern: string): string[] {
  const words = _literalWords(pattern).slice(0, 8);
  const r = _random(0xf7a9_0001);
  const out: string[] = [];
  for (const word of words) {
    const w = word.replace(/^[.-]+|[.-]+$/g, "");
    const other = () => `${_label(r, 3, 10, true)}.${PROBE_TLDS[Math.floor(r() * 8)] ?? "net"}`;
    out.push(`${w}.${other()}`, `${_label(r, 2, 8, false)}.${w}.${other()}`, `${_label(r, 2, 8, false)}${w}${_label(r, 2, 8, false)}.${other()}`, `${_label(r, 2, 8, false)}-${w}.${other()}`);
    // `.*acme\.example` also matches `evilacme.example`: another registrable name glued in front.
    if (w.includes(".")) out.push(`${_label(r, 2, 8, false)}${w}`, `${_label(r, 2, 8, false)}-${w}`);
  }
  return out;
}

/**
 * The first `api.stripe` spelled with a bare `.` between name parts (letters, digits, a group or
 * a class: `(api|www).stripe`), or null: it matches `apixstripe.com` too, a domain anyone can
 * register. A bare `.` next to a quantifier (`.*`, `a+.`) is meant as a wildcard and left to
 * the probes.
 */
function _unescapedDot(pattern: string): string | null {
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "\\") i++;
    else if (c === "[") inClass = true;
    else if (c === "]") inClass = false;
    else if (c === "." && !inClass && i > 0 && pattern[i - 2] !== "\\") {
      const before = pattern.slice(0, i).match(/[a-z0-9()|[\]-]+$/i)?.[0] ?? "";
      const after = pattern.slice(i + 1).match(/^[a-z0-9()|[\]-]+/i)?.[0] ?? "";
      const namePartBefore = /[a-z0-9)\]-]$/i.test(before);
      const namePartAfter = /^[a-z0-9([-]/i.test(after) && !/[?*+{]/.test(pattern[i + 1 + after.length] ?? "");
      if (namePartBefore && namePartAfter) return `${before}.${after}`;
    }
  }
  return null;
}

/** Runs of literal host characters in a pattern, at least three long and with a letter. */
function _literalWords(pattern: string): string[] {
  const words: string[] = [];
  let word = "";
  const flush = (): void => {
    if (word.length >= 3 && /[a-z]/i.test(word)) words.push(word.toLowerCase());
    word = "";
  };
  // A character a quantifier applies to is not a literal (`apis?`): the word ends before it.
  const quantified = (k: number): boolean => /[?*+{]/.test(pattern[k] ?? "");
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? "";
    const next = pattern[i + 1] ?? "";
    if (c === "\\" && /[.-]/.test(next)) {
      if (quantified(i + 2)) flush();
      else word += next;
      i++;
    } else if (/[a-z0-9-]/i.test(c)) {
      if (quantified(i + 1)) flush();
      else word += c;
    } else {
      flush();
      const close = c === "[" ? "]" : c === "{" ? "}" : c === "(" && next === "?" ? ":)" : "";
      if (c === "\\") i++; // \d, \w, \S ...: a class, not a literal
      while (close !== "" && i + 1 < pattern.length && !close.includes(pattern[i + 1] ?? "")) i++;
    }
  }
  flush();
  return words;
}

/** A DNS label of `min`..`max` characters: letters, or (mixed) letters, digits and inner hyphens. */
function _label(r: () => number, min: number, max: number, mixed: boolean): string {
  const letters = "abcdefghijklmnopqrstuvwxyz";
  const chars = mixed ? `${letters}0123456789-` : letters;
  const length = min + Math.floor(r() * (max - min + 1));
  let label = "";
  for (let i = 0; i < length; i++) {
    const edge = i === 0 || i === length - 1;
    label += (edge ? letters : chars)[Math.floor(r() * (edge ? letters.length : chars.length))];
  }
  return label;
}

/** mulberry32: a small seeded generator (these are test inputs, not secrets). */
function _random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
