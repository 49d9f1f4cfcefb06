/**
 * argon2id from hash-wasm, re-exported statically so the bundler keeps only argon2's WebAssembly
 * (~29 KB) in the lazily loaded chunk: a dynamic `import("hash-wasm")` would keep every algorithm
 * the package has (~218 KB of the published package).
 */
export { argon2id } from "hash-wasm";
