/**
 * Starts a throwaway redis-server on a free loopback port for one test file: plain, with an
 * append-only file (so a kill and restart keeps what was acknowledged), with a password or ACL
 * users, or with TLS (certificates made by openssl for the test). The server can be frozen
 * (SIGSTOP), thawed, killed and restarted on the same port and data directory.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.ts";

/** Options for {@link startRedisServer}. */
export interface RedisServerOptions {
  /** appendonly yes + appendfsync always: an acknowledged write survives a kill -9. */
  persistent?: boolean;
  /** `requirepass` for the default user. */
  password?: string;
  /** ACL users, as `user NAME on >PASSWORD ~authsome* +@all`-style rules (one per user). */
  aclUsers?: string[];
  /** Serve TLS only (on the returned port), with a CA written to `caFile`. */
  tls?: boolean;
}

/** A running redis-server child. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>/0` (or `rediss://localhost:…` with TLS), without credentials. */
  url: string;
  port: number;
  /** The CA the TLS server's certificate chains to (TLS only). */
  caFile?: string;
  /** The server's pid (for SIGSTOP/SIGCONT). */
  pid(): number;
  /** Sends a signal to the server. */
  signal(signal: NodeJS.Signals): void;
  /** kill -9, then a new server on the same port and data directory, answering PING. */
  restart(): Promise<void>;
  /** Runs redis-cli against the server (plain servers without a password only). */
  cli(...args: string[]): string;
  stop(): Promise<void>;
}

/** Why redis-server cannot run here, or undefined when it can. */
export function redisUnavailableReason(): string | undefined {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return probe.error === undefined && probe.status === 0 ? undefined : "redis-server is not installed (apt-get install redis-server)";
}

/** Why a TLS redis-server cannot run here (no openssl, or redis-server built without TLS). */
export function redisTlsUnavailableReason(): string | undefined {
  const base = redisUnavailableReason();
  if (base !== undefined) return base;
  if (spawnSync("openssl", ["version"]).status !== 0) return "openssl is not installed";
  const probe = spawnSync("redis-server", ["--tls-port", "0", "--port", "0", "--test-memory", "1"], { encoding: "utf8" });
  return /tls/i.test(`${probe.stdout}${probe.stderr}`) && /not built|unrecognized/i.test(`${probe.stdout}${probe.stderr}`) ? "redis-server was built without TLS" : undefined;
}

/** A CA and a server certificate for localhost/127.0.0.1, made by openssl in `dir`. */
function _makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const run = (...args: string[]): void => {
    const result = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (result.status !== 0) throw new Error(`openssl ${args[0]} failed: ${result.stderr}`);
  };
  run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=authsome test redis CA");
  run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost");
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf");
  return { ca: join(dir, "ca.pem"), cert: join(dir, "server.pem"), key: join(dir, "server.key") };
}

function _args(port: number, dir: string, options: RedisServerOptions, certs: { ca: string; cert: string; key: string } | undefined): string[] {
  const args = ["--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  args.push(...(options.persistent === true ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]));
  if (certs === undefined) args.push("--port", String(port));
  else args.push("--port", "0", "--tls-port", String(port), "--tls-cert-file", certs.cert, "--tls-key-file", certs.key, "--tls-ca-cert-file", certs.ca, "--tls-auth-clients", "no");
  if (options.aclUsers !== undefined) {
    // An ACL file replaces requirepass: the default user's password goes in the file too.
    const defaultUser = `user default on ${options.password === undefined ? "nopass" : `>${options.password}`} ~* &* +@all`;
    writeFileSync(join(dir, "users.acl"), `${[...options.aclUsers, defaultUser].join("\n")}\n`);
    args.push("--aclfile", join(dir, "users.acl"));
  } else if (options.password !== undefined) args.push("--requirepass", options.password);
  return args;
}

/**
 * Resolves "ready" once this child logged that it accepts connections, or with what it logged
 * when it ended first. The child's own line, not a PING on the port: the port was free when
 * chosen and released before redis-server bound it, so another process may hold it by then (an
 * outgoing connection's ephemeral port, another test's listener, another test's redis-server,
 * which would answer the PING while this one exited with "Address already in use").
 */
function _readiness(child: ChildProcess, deadlineMs: number): Promise<"ready" | { log: string }> {
  return new Promise((resolve) => {
    let log = "";
    let settled = false;
    const settle = (outcome: "ready" | { log: string }): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    // Both streams are read for the child's whole life (a full pipe would block it).
    const take = (chunk: Buffer): void => {
      if (settled) return;
      log = `${log}${chunk.toString()}`.slice(-8_192);
      if (/Ready to accept connections/.test(log)) settle("ready");
    };
    child.stdout?.on("data", take);
    child.stderr?.on("data", take);
    child.once("close", () => settle({ log }));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      settle({ log: `${log}\n(not ready within ${deadlineMs} ms)` });
    }, deadlineMs);
  });
}

/** Starts redis-server and resolves once it accepts connections (10 s at most). */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  let port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "authsome-redis-"));
  const certs = options.tls === true ? _makeCerts(dir) : undefined;
  let child: ChildProcess;
  let exit: Promise<unknown> = Promise.resolve();
  /** `samePort`: a restart, whose clients know the port; a first start moves to another free one. */
  const launch = async (samePort: boolean): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      child = spawn("redis-server", _args(port, dir, options, certs), { stdio: ["ignore", "pipe", "pipe"] });
      const started = child;
      exit = once(started, "exit");
      const outcome = await _readiness(started, 10_000);
      if (outcome === "ready") return;
      await exit;
      if (!samePort && attempt < 5 && /Address already in use/.test(outcome.log)) {
        port = await freePort();
        continue;
      }
      throw new Error(`redis-server on port ${port} did not start: ${outcome.log.trim().split("\n").slice(-3).join(" | ")}`);
    }
  };
  await launch(false);
  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      _signal(child, "SIGCONT");
      _signal(child, signal);
    }
    await exit;
  };
  return {
    url: certs === undefined ? `redis://127.0.0.1:${port}/0` : `rediss://localhost:${port}/0`,
    port,
    ...(certs === undefined ? {} : { caFile: certs.ca }),
    pid: () => child.pid ?? -1,
    signal: (signal) => _signal(child, signal),
    restart: async () => {
      await halt("SIGKILL");
      await launch(true);
    },
    cli: (...args) => spawnSync("redis-cli", ["-p", String(port), ...args], { encoding: "utf8" }).stdout,
    stop: async () => {
      await halt("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * process.kill by pid: Deno's ChildProcess.kill does not deliver SIGCONT to a stopped child
 * (measured: the server stayed frozen).
 */
function _signal(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // Already gone.
  }
}
