/**
 * Plugin files as text: `.json` (strict JSON) and `.jsonc` (JSON with `//` and `/* *\/`
 * comments and trailing commas, the Python authsome's newer bundled files). Errors name the
 * file, the line (and column for syntax errors; field errors get a line in .jsonc files) and
 * the field: `plugin ./x.jsonc:14: field "api_url[1]": ...`.
 *
 * Loaded only by `providers add` and `providers test`: installed plugins are stored as plain
 * JSON and read by plugin-v1.ts `loadPluginJson`, so jsonc-parser never costs a CLI start.
 * A `.json` file with comments is refused with a hint to rename it `.jsonc` (docs/plugins.md):
 * `.json` keeps meaning what every other JSON tool reads.
 */
import { findNodeAtLocation, getLocation, parse, parseTree, printParseErrorCode } from "jsonc-parser";
import type { Node, ParseError } from "jsonc-parser";
import { AuthsomeError } from "./errors.ts";
import type { ProviderPlugin } from "./plugin.ts";
import { pluginError } from "./plugin-schema.ts";
import { loadPluginObject } from "./plugin-v1.ts";

/** Which syntax a plugin file is read with. */
export type PluginTextKind = "json" | "jsonc";

/**
 * Parses and validates a plugin file's text (native or authsome-v1). Throws plugin_invalid
 * naming `source`, the line and the field.
 */
export function loadPluginText(text: string, source: string, kind: PluginTextKind): ProviderPlugin {
  const json = kind === "jsonc" ? _parseJsonc(text, source) : _parseJson(text, source);
  try {
    return loadPluginObject(json, source);
  } catch (error) {
    // .json field errors keep their long-standing form (`plugin x.json: field ...`), which
    // scripts and tests match; .jsonc files, long and commented, get the field's line.
    throw kind === "jsonc" ? _withLine(error, text, source) : error;
  }
}

function _parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    const strict = _firstError(text, { disallowComments: true, allowTrailingComma: false });
    const lenient = _firstError(text, { disallowComments: false, allowTrailingComma: true });
    if (strict !== null && lenient === null) {
      const what = printParseErrorCode(strict.error) === "InvalidCommentToken" ? "a comment" : "a trailing comma";
      throw pluginError(_at(text, source, strict.offset, true), "", `${what}, which JSON does not allow: rename the file to .jsonc to keep comments`, cause);
    }
    const found = strict ?? lenient;
    if (found === null) throw pluginError(source, "", "invalid JSON", cause);
    throw pluginError(_at(text, source, found.offset, true), _pathAt(text, found.offset), `invalid JSON (${_codeText(found.error)})`, cause);
  }
}

function _parseJsonc(text: string, source: string): unknown {
  const errors: ParseError[] = [];
  const json: unknown = parse(text, errors, { disallowComments: false, allowTrailingComma: true, allowEmptyContent: false });
  const [first] = errors;
  if (first !== undefined) throw pluginError(_at(text, source, first.offset, true), _pathAt(text, first.offset), `invalid JSONC (${_codeText(first.error)})`);
  return json;
}

function _firstError(text: string, options: { disallowComments: boolean; allowTrailingComma: boolean }): ParseError | null {
  const errors: ParseError[] = [];
  parse(text, errors, options);
  return errors[0] ?? null;
}

/** `PropertyNameExpected` -> `property name expected`. */
function _codeText(code: number): string {
  return printParseErrorCode(code).replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

/** `source:line` or `source:line:column` (1-based) for an offset into `text`. */
function _at(text: string, source: string, offset: number, column: boolean): string {
  const before = text.slice(0, offset).split("\n");
  const line = before.length;
  return column ? `${source}:${line}:${(before.at(-1)?.length ?? 0) + 1}` : `${source}:${line}`;
}

/** The dotted path of the value being parsed at `offset` (`oauth.scopes[1]`), "" at the top. */
function _pathAt(text: string, offset: number): string {
  return _dotted(getLocation(text, offset).path);
}

function _dotted(path: readonly (string | number)[]): string {
  return path.reduce<string>((out, key) => (typeof key === "number" ? `${out}[${key}]` : out === "" ? key : `${out}.${key}`), "");
}

/** `oauth.scopes[1]` -> ["oauth", "scopes", 1]. */
function _segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(part[2] === undefined ? (part[1] ?? "") : Number(part[2]));
  return out;
}

/** Adds the line of the failing field (or of its nearest parent that exists) to a field error. */
function _withLine(error: unknown, text: string, source: string): unknown {
  if (!(error instanceof AuthsomeError) || error.code !== "plugin_invalid") return error;
  const prefix = `plugin ${source}: field "`;
  if (!error.message.startsWith(prefix)) return error;
  const path = error.message.slice(prefix.length, error.message.indexOf("\"", prefix.length));
  const tree = parseTree(text, [], { disallowComments: false, allowTrailingComma: true });
  if (tree === undefined) return error;
  let segments = _segments(path);
  let node: Node | undefined;
  while ((node = findNodeAtLocation(tree, segments)) === undefined && segments.length > 0) segments = segments.slice(0, -1);
  // A property's value node: report the line of its key, where a reader looks.
  const offset = node?.parent?.type === "property" ? node.parent.offset : (node?.offset ?? 0);
  const message = `plugin ${_at(text, source, offset, false)}: ${error.message.slice(`plugin ${source}: `.length)}`;
  return new AuthsomeError("plugin_invalid", message, { cause: error, ...(error.hint === undefined ? {} : { hint: error.hint }) });
}
