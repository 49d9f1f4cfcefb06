// bench/mcp: what authsome adds to an MCP tool call. A real MCP server (the SDK's, behind its
// bearer-auth middleware, test/helpers/mcp-server.ts) and authorization server (oidc-provider,
// test/helpers/mcp-auth.ts) run in this process; a home logs in by URL through the built CLI.
// The SDK's client then calls the `whoami` tool over Streamable HTTP, one call at a time:
//   direct  the client holds the token itself (Authorization header), no authsome
//   run     the client under `authsome run` (the proxy injects the token; Node preload)
//   bridge  the client speaks stdio to `authsome mcp stdio URL` (StdioClientTransport), which
//           relays to the server with the token
// Same run, same server; ms per call, median and p90 over the calls (after a warm-up).
//   node --import tsx bench/mcp.mjs [--calls N]
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const calls = Number(argv[argv.indexOf("--calls") + 1] ?? 0) || 300;
const root = fileURLToPath(new URL("../", import.meta.url));
const bin = join(root, "bin/authsome.mjs");

if (argv.includes("--worker")) await worker(JSON.parse(argv[argv.indexOf("--worker") + 1]));
else await main();

/** The client side: connect, warm up, time `calls` sequential tool calls; prints JSON. */
async function worker({ url, token, lookup, calls, stdio }) {
  const { Client } = await import("@modelcontextprotocol/sdk/client/index.js");
  const client = new Client({ name: "bench", version: "1" });
  let transport;
  if (stdio !== undefined) {
    const { StdioClientTransport } = await import("@modelcontextprotocol/sdk/client/stdio.js");
    transport = new StdioClientTransport({ command: process.execPath, args: [bin, "mcp", "stdio", url], env: { ...process.env } });
  } else {
    const opts = token === undefined ? {} : { requestInit: { headers: { authorization: `Bearer ${token}` } } };
    if (lookup !== undefined) {
      // Direct: the test host name resolved here (as AUTHSOME_UPSTREAM_RESOLVE does for
      // authsome), through one keep-alive undici Agent, as the other two paths use.
      const { Agent, fetch: undiciFetch } = await import("undici");
      const dispatcher = new Agent({ connect: { lookup: (_h, _o, cb) => cb(null, [{ address: lookup, family: 4 }]) } });
      opts.fetch = (u, init) => undiciFetch(u, { ...init, dispatcher });
    }
    const { StreamableHTTPClientTransport } = await import("@modelcontextprotocol/sdk/client/streamableHttp.js");
    transport = new StreamableHTTPClientTransport(new URL(url), opts);
  }
  await client.connect(transport);
  const call = () => client.callTool({ name: "whoami", arguments: {} });
  for (let i = 0; i < 30; i++) await call();
  const times = [];
  for (let i = 0; i < calls; i++) {
    const t = performance.now();
    await call();
    times.push(performance.now() - t);
  }
  await client.close();
  times.sort((a, b) => a - b);
  process.stdout.write(`${JSON.stringify({ median: times[Math.floor(times.length / 2)], p90: times[Math.floor(times.length * 0.9)] })}\n`);
  process.exit(0);
}

function cli(args, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

function runWorker(args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(args[0], args.slice(1), { env, stdio: ["ignore", "pipe", "inherit"], cwd: root });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out.trim().split("\n").at(-1))) : reject(new Error(`worker exit ${code}: ${out}`))));
  });
}

async function main() {
  const { startMcpAuth } = await import("../test/helpers/mcp-auth.ts");
  const { startMcpServer } = await import("../test/helpers/mcp-server.ts");
  const { browserEnv, freePort } = await import("../test/helpers/oidc-server.ts");
  let mcp;
  const auth = await startMcpAuth({ resources: () => [mcp.url] });
  mcp = await startMcpServer({ auth });
  const home = await mkdtemp(join(tmpdir(), "authsome-bench-mcp-"));
  const caFile = join(home, "ca.pem");
  await writeFile(caFile, mcp.caPem);
  const env = {
    ...process.env, AUTHSOME_HOME: home, AUTHSOME_KEYRING: "0", NO_COLOR: "1", NODE_OPTIONS: "",
    AUTHSOME_UPSTREAM_RESOLVE: `mcp.example.test:${mcp.port}:127.0.0.1`, AUTHSOME_UPSTREAM_CA: caFile,
    AUTHSOME_REDIRECT_PORT: String(await freePort()), ...browserEnv(join(home, "browser.log")),
  };
  try {
    // Not spawnSync: the servers answer from this process's event loop.
    const login = await cli(["login", mcp.url], env);
    if (login.code !== 0) throw new Error(`login failed: ${login.stderr}`);
    const token = (await cli(["get", "example", "--field", "access_token", "--show-secret"], env)).stdout.trim();
    const self = [process.execPath, fileURLToPath(import.meta.url), "--worker"];
    const spec = (extra) => JSON.stringify({ url: mcp.url, calls, ...extra });
    const results = {
      direct: await runWorker([...self, spec({ token, lookup: "127.0.0.1" })], { ...env, NODE_EXTRA_CA_CERTS: caFile }),
      run: await runWorker([process.execPath, bin, "run", "--", ...self, spec({})], env),
      bridge: await runWorker([...self, spec({ stdio: true })], env),
    };
    const row = (name, r) => `| ${name} | ${r.median.toFixed(2)} | ${r.p90.toFixed(2)} | ${name === "direct" ? "-" : `+${(r.median - results.direct.median).toFixed(2)}`} |`;
    console.log(`MCP tool call (whoami over Streamable HTTP), ${calls} sequential calls, Node ${process.versions.node}`);
    console.log("| path | median ms | p90 ms | added (median) |\n|---|---|---|---|");
    for (const [name, r] of Object.entries(results)) console.log(row(name, r));
  } finally {
    await rm(home, { recursive: true, force: true });
    await mcp.close();
    await auth.close();
  }
}
