/**
 * The published .d.ts as a strict TypeScript consumer compiles them: NodeNext, strict,
 * exactOptionalPropertyTypes, skipLibCheck off and lib without DOM, importing the three entry
 * points by package name from the consumer project (the repository's tsc, the consumer's files).
 */
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { consumerScratch, packageSkip, runBounded } from "../helpers/package.ts";
import { repoRoot } from "../helpers/spawn-runtime.ts";

const tsconfig = {
  compilerOptions: {
    strict: true,
    module: "NodeNext",
    moduleResolution: "NodeNext",
    target: "ES2022",
    exactOptionalPropertyTypes: true,
    skipLibCheck: false,
    lib: ["ES2022"],
    types: ["node"],
    noEmit: true,
  },
  include: ["src"],
};

const consumerSource = `
import { AuthsomeError, createAuthService, type ConnectionView, type LoginOptions } from "authsome-broker";
import { intercept, type InterceptOptions } from "authsome-broker/intercept";
import { definePlugin, type ProviderPlugin } from "authsome-broker/plugin";

export const plugin: ProviderPlugin = definePlugin({ name: "acme", authType: "api_key", inject: [{ host: "api.acme.example" }] });

export async function main(): Promise<string> {
  const auth = await createAuthService({ profile: "default" });
  const options: LoginOptions = { connection: "work", apiKey: "k" };
  const view: ConnectionView = await auth.login("acme", options);
  const token: string = await auth.getAccessToken("acme", { connection: view.connection });
  const interceptOptions: InterceptOptions = { service: auth, connections: { acme: "work" } };
  const restore: () => void = await intercept(interceptOptions);
  restore();
  await auth.close();
  return token;
}

export function codeOf(error: unknown): string | undefined {
  return error instanceof AuthsomeError ? error.code : undefined;
}
`;

// A deliberate type error proves the check reads these files and can fail.
const wrongSource = `
import { createAuthService } from "authsome-broker";
const auth = await createAuthService();
export const n: number = await auth.getAccessToken("acme");
`;

async function compile(source: string): Promise<Awaited<ReturnType<typeof runBounded>>> {
  const dir = await consumerScratch("tsc");
  await mkdir(join(dir, "src"));
  await writeFile(join(dir, "tsconfig.json"), JSON.stringify(tsconfig, null, 2));
  await writeFile(join(dir, "src/main.ts"), source);
  // tsc is a Node program; the check is the same whichever runtime runs this test.
  return runBounded("node", [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", dir], { cwd: dir }, 120_000);
}

test("a strict NodeNext consumer without DOM compiles against the published types with zero errors", { skip: packageSkip }, async () => {
  const r = await compile(consumerSource);
  assert.equal(r.stdout + r.stderr, "");
  assert.equal(r.code, 0);
});

test("the same consumer check reports a real type error", { skip: packageSkip }, async () => {
  const r = await compile(wrongSource);
  assert.notEqual(r.code, 0);
  assert.match(r.stdout, /TS2322: Type 'string' is not assignable to type 'number'/);
});
