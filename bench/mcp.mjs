// bench/mcp: what authsome adds to an MCP tool call. A real MCP server (the SDK's, behind its
// bearer-auth middleware, test/helpers/mcp-server.ts) and authorization server (oidc-provider,
// test/helpers/mcp-auth.ts) run in this process; a home logs in by URL through the built CLI.
// The SDK's client then calls the `whoami` tool over Streamable HTTP, one call at a time:
//   direct  the client holds the token itself (Authorization header), no authsome
//   run     the client under `authsome run` (the proxy injects the token; Node preload)
//   bridge  the client speaks stdio to `authsome mcp stdio URL` (StdioClientTransport), which
//           relays to the server with the token
// Same run, same server, the three paths' calls interleaved in rounds; ms per call, median and
// p90 over all calls of a path (after a warm-up of 30 each).
//   node --import tsx bench/mcp.mjs [--calls N]
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const argv = process.argv.slice(2);
const calls = Number(argv[argv.indexOf("--calls") + 1] ?? 0) || 300;
const root = fileURLToPath(new URL("../", import.meta.url));
const bin = join(root, "bin/authsome.mjs");

if (argv.includes("--worker")) await worker(JSON.parse(argv[argv.indexOf("--worker") + 1]));
else await main();

/** The client side: connect, warm up, time `calls` sequential tool calls; prints JSON. */
async function worker({ url, token, lookup, stdio }) {
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
  // Rounds on request (a line "N" on stdin: N timed calls), so the paths interleave.
  process.stdout.write("ready\n");
  for await (const line of createInterface({ input: process.stdin })) {
    const times = [];
    for (let i = 0; i < Number(line); i++) {
      const t = performance.now();
      await call();
      times.push(performance.now() - t);
    }
    process.stdout.write(`${JSON.stringify(times)}\n`);
  }
  await client.close();
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

/** Starts a worker; `round(n)` resolves with its n call times. */
async function startWorker(args, env) {
  const child = spawn(args[0], args.slice(1), { env, stdio: ["pipe", "pipe", "inherit"], cwd: root });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`worker ${args.join(" ")} ended`);
    return value;
  };
  if ((await next()) !== "ready") throw new Error("worker did not start");
  return {
    round: async (n) => (child.stdin.write(`${n}\n`), JSON.parse(await next())),
    close: () => new Promise((resolve) => (child.on("close", resolve), child.stdin.end())),
  };
}

function stat(times) {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)], p90: sorted[Math.floor(sorted.length * 0.9)] };
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
    const spec = (extra) => JSON.stringify({ url: mcp.url, ...extra });
    const workers = {
      direct: await startWorker([...self, spec({ token, lookup: "127.0.0.1" })], { ...env, NODE_EXTRA_CA_CERTS: caFile }),
      run: await startWorker([process.execPath, bin, "run", "--", ...self, spec({})], env),
      bridge: await startWorker([...self, spec({ stdio: true })], env),
    };
    const times = { direct: [], run: [], bridge: [] };
    const rounds = 10;
    for (let r = 0; r < rounds; r++) {
      for (const name of Object.keys(workers)) times[name].push(...(await workers[name].round(Math.ceil(calls / rounds))));
    }
    await Promise.all(Object.values(workers).map((w) => w.close()));
    const results = Object.fromEntries(Object.entries(times).map(([name, t]) => [name, stat(t)]));
    const row = (name, r) => `| ${name} | ${r.median.toFixed(2)} | ${r.p90.toFixed(2)} | ${name === "direct" ? "-" : `${r.median >= results.direct.median ? "+" : ""}${(r.median - results.direct.median).toFixed(2)}`} |`;
    console.log(`MCP tool call (whoami over Streamable HTTP), ${calls} sequential calls per path in ${rounds} interleaved rounds, Node ${process.versions.node}`);
    console.log("| path | median ms | p90 ms | added (median) |\n|---|---|---|---|");
    for (const [name, r] of Object.entries(results)) console.log(row(name, r));
  } finally {
    await rm(home, { recursive: true, force: true });
    await mcp.close();
    await auth.close();
  }
}
