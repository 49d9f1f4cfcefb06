/**
 * `providers add jsr:@scope/authsome-plugin-NAME[@version]`: a plugin published on JSR, read
 * over JSR's documented HTTP API (https://jsr.io/docs/api: `meta.json` for the versions,
 * `<version>_meta.json` for the exports, then the entry file itself) and compiled like a local
 * module plugin (plugin-module.ts, in a child process). Runs the same on Node and Deno, needs no
 * `deno` cache, and, as for any module plugin, a plugin is one file: its own relative imports are
 * refused by name. `AUTHSOME_JSR_URL` points it at a mirror (or a test's local server).
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as v from "valibot";
import { AuthsomeError } from "./errors.ts";
import { getEnv } from "../runtime/index.ts";
import { pluginError } from "./plugin-schema.ts";

const JSR_SPEC = /^jsr:(@[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9-]*)(?:@([^/\s]+))?$/;
const MAX_ENTRY_BYTES = 1024 * 1024;
const TIMEOUT_MS = 30_000;

const PackageMeta = v.object({ latest: v.nullish(v.string()), versions: v.record(v.string(), v.unknown()) });
const VersionMeta = v.object({ exports: v.record(v.string(), v.string()) });

/** True for a `jsr:` package spec. */
export function isJsrSpec(spec: string): boolean {
  return spec.startsWith("jsr:");
}

/**
 * Fetches a JSR package's entry into a temporary directory and hands its path to `load`, which
 * imports it; the directory is removed afterwards. Returns what `load` returned and the origin
 * recorded as `$source` (`jsr:@scope/name@version`).
 */
export async function withJsrEntry<T>(spec: string, load: (path: string) => Promise<T>): Promise<{ value: T; origin: string }> {
  const match = JSR_SPEC.exec(spec);
  if (match === null) throw new AuthsomeError("usage", `"${spec}" is not a JSR package spec`, { hint: "write jsr:@scope/authsome-plugin-NAME or jsr:@scope/authsome-plugin-NAME@1.2.3" });
  const [, name = "", wanted] = match;
  const base = `${(getEnv("AUTHSOME_JSR_URL") ?? "https://jsr.io").replace(/\/+$/, "")}/${name}`;
  const meta = v.safeParse(PackageMeta, await _json(`${base}/meta.json`, spec));
  if (!meta.success) throw pluginError(spec, "", "JSR answered meta.json without a versions list");
  const version = wanted ?? meta.output.latest ?? undefined;
  if (version === undefined || !Object.hasOwn(meta.output.versions, version)) throw pluginError(spec, "", `no version ${version ?? "(latest)"} on JSR`);
  const exports = v.safeParse(VersionMeta, await _json(`${base}/${version}_meta.json`, spec));
  const entry = exports.success ? exports.output.exports["."] : undefined;
  if (entry === undefined || !/^\.\/[\w./-]+\.(?:[mc]?ts|[mc]?js)$/.test(entry) || entry.includes("..")) {
    throw pluginError(spec, "", "the package has no \".\" export naming a .ts or .js file");
  }
  const dir = await mkdtemp(join(tmpdir(), "authsome-jsr-"));
  try {
    const file = join(dir, entry.split("/").at(-1) ?? "mod.ts");
    await writeFile(file, await _text(`${base}/${version}/${entry.slice(2)}`, spec), { mode: 0o600 });
    return { value: await load(file), origin: `jsr:${name}@${version}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function _fetch(url: string, spec: string): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: "application/json, text/plain, */*" }, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (error) {
    throw new AuthsomeError("endpoint_unreachable", `cannot reach JSR for ${spec} (${url})`, { cause: error });
  }
  if (response.status === 404) {
    await response.body?.cancel();
    throw pluginError(spec, "", `not found on JSR (${url})`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new AuthsomeError("endpoint_unreachable", `JSR answered HTTP ${response.status} for ${url}`);
  }
  return response;
}

async function _json(url: string, spec: string): Promise<unknown> {
  try {
    return JSON.parse(await _text(url, spec));
  } catch (error) {
    if (error instanceof AuthsomeError) throw error;
    throw pluginError(spec, "", `JSR answered ${url} with invalid JSON`, error);
  }
}

async function _text(url: string, spec: string): Promise<string> {
  const text = await (await _fetch(url, spec)).text();
  if (text.length > MAX_ENTRY_BYTES) throw pluginError(spec, "", `${url} is larger than ${MAX_ENTRY_BYTES / 1024} KiB`);
  return text;
}
