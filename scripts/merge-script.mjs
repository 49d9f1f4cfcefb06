// Turns a merged group's ES module (esbuild's output, scripts/merge-chunks.mjs) into a script
// that src/runtime/code-cache.ts compiles with a V8 code cache (merge-chunks.mjs writes the small
// ES module that runs it): Node 20 keeps no compiled code of ES modules between runs, and a
// `vm.Script`'s code can be cached (docs/architecture.md).
//
// The script is one function expression, `(function (__need, __import, __meta) { ... })`:
// - its static imports become `var` declarations at its top, taken from `__need(specifier)`
//   (hoisted, as imports are; the specifiers' modules are already evaluated by then, and their
//   exports are constants, which scripts/merge-chunks.mjs checks for our sources);
// - dynamic imports call `__import`, `import.meta` reads `__meta`;
// - its export statement becomes `return { exported: local, ... }`, read once it ran.
// It is strict mode code, as the module was. es-module-lexer finds the import and export
// statements, so no text inside a string or a comment is taken for one.
import { init, parse } from "es-module-lexer";
import { Script } from "node:vm";

const CLAUSE = /^(?:([\w$]+)\s*,?\s*)?(?:\*\s*as\s+([\w$]+)|\{([^}]*)\})?$/;

/** The declarations standing for one static import statement. */
function _declare(statement, spec, clauseText) {
  const clause = clauseText.trim().replace(/\s*from$/, "");
  const m = CLAUSE.exec(clause);
  if (m === null) throw new Error(`merge-script: cannot read the import ${statement}`);
  const [, def, star, named] = m;
  const source = `__need(${JSON.stringify(spec)})`;
  if (def === undefined && star === undefined && named === undefined) return `${source};`;
  const parts = [];
  // A builtin's module object is its default export; an ES module's is its `default`.
  if (def !== undefined) parts.push(`${def}=${spec.startsWith("node:") ? source : `${source}.default`}`);
  if (star !== undefined) parts.push(`${star}=${source}`);
  if (named !== undefined) {
    const fields = named.split(",").map((p) => p.trim()).filter(Boolean).map((p) => p.split(/\s+as\s+/).join(":"));
    parts.push(`{${fields.join(",")}}=${source}`);
  }
  return `var ${parts.join(",")};`;
}

/** The script text, its relative imports, and the names it returns. */
export async function toScript(code, name) {
  await init;
  const [imports, exports] = parse(code, name);
  const edits = [];
  const hoisted = [];
  const deps = new Set();
  for (const i of imports) {
    if (i.t === 1) {
      const end = code[i.se] === ";" ? i.se + 1 : i.se;
      hoisted.push(_declare(code.slice(i.ss, i.se), i.n, code.slice(i.ss + "import".length, i.s - 1)));
      if (i.n.startsWith(".")) deps.add(i.n);
      edits.push([i.ss, end, ""]);
    } else if (i.t === 2) edits.push([i.ss, i.ss + "import".length, "__import"]);
    else if (i.t === 3) edits.push([i.ss, i.se, "__meta"]);
    else throw new Error(`merge-script: ${name}: an import of kind ${i.t} at ${i.ss}`);
  }
  const statement = new Set(exports.map((e) => e.ss));
  if (statement.size > 1 || exports.some((e) => e.ln === undefined)) throw new Error(`merge-script: ${name}: exports must be one export list of local names`);
  const names = exports.map((e) => e.n);
  if (exports.length > 0) {
    const close = code.indexOf("}", exports.at(-1).e) + 1;
    edits.push([exports[0].ss, code[close] === ";" ? close + 1 : close, ""]);
  }
  edits.sort((a, b) => b[0] - a[0]);
  let body = code;
  for (const [from, to, text] of edits) body = body.slice(0, from) + text + body.slice(to);
  const returned = `return{${exports.map((e) => `${JSON.stringify(e.n)}:${e.ln}`).join(",")}};`;
  const script = `(function(__need,__import,__meta){"use strict";${hoisted.join("")}${body}\n${returned}})`;
  // code-cache.ts reads the file as latin1; and a syntax error is found here, not by a user.
  if (/[^\x00-\x7f]/.test(script)) throw new Error(`merge-script: ${name} is not ASCII`);
  new Script(script, { filename: name });
  return { script, deps: [...deps], names };
}
