/**
 * The `authsome run`/`serve` tests' setup: a temporary home and an HTTPS upstream from a test CA,
 * reached as `<name>.example.test` for each of `names` (AUTHSOME_UPSTREAM_RESOLVE) and trusted
 * through the CA written into the home (AUTHSOME_UPSTREAM_CA).
 */
import { writeFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import tls from "node:tls";
import { createCertificateAuthority, createMemoryCaStore } from "../../src/proxy/ca.ts";
import { runCli, tempHome } from "./cli.ts";
import { startHttpsUpstream, type TestUpstream } from "./proxy-upstream.ts";

export interface HomeWithUpstream {
  home: Awaited<ReturnType<typeof tempHome>>;
  upstream: TestUpstream;
  /** The home's environment with the resolve and CA variables. */
  env: Record<string, string>;
  /** `https://api.example.test:PORT`. */
  base: string;
}

export async function startHomeWithUpstream(names: string[]): Promise<HomeWithUpstream> {
  const home = await tempHome();
  const upstreamCa = await createCertificateAuthority(createMemoryCaStore());
  const upstream = await startHttpsUpstream(() => upstreamCa);
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, upstreamCa.caCertPem());
  const resolve = names.map((h) => `${h}.example.test:${upstream.port}:127.0.0.1`).join(",");
  const env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile };
  return { home, upstream, env, base: `https://api.example.test:${upstream.port}` };
}

/** A home whose `api.example.test` answers `route` over HTTPS (`ports.secure`) and plain HTTP. */
export interface HomeWithRoute {
  home: Awaited<ReturnType<typeof tempHome>>;
  env: Record<string, string>;
  ports: { secure: number; plain: number };
  close(): Promise<void>;
}

/**
 * The streaming tests' setup: one request handler behind both schemes of `api.example.test`
 * (the TLS relay and the node:http forwarder see the same upstream), reached through
 * AUTHSOME_UPSTREAM_RESOLVE and trusted through AUTHSOME_UPSTREAM_CA.
 */
export async function startHomeWithRoute(route: http.RequestListener): Promise<HomeWithRoute> {
  const home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  const leaf = await ca.leafFor("api.example.test");
  const secure = https.createServer({ SNICallback: (_name, done) => done(null, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })) });
  const servers = [secure, http.createServer()];
  const [portSecure, portPlain] = await Promise.all(servers.map((server) => _listen(server.on("request", route))));
  const ports = { secure: portSecure ?? 0, plain: portPlain ?? 0 };
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, ca.caCertPem());
  const resolve = `api.example.test:${ports.secure}:127.0.0.1,api.example.test:${ports.plain}:127.0.0.1`;
  const env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile };
  const close = async () => {
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
    await home.cleanup();
  };
  return { home, env, ports, close };
}

async function _listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** Adds the tests' `acme` API-key provider (a JSON plugin with these rules) and logs `key` in. */
export async function addAcme(home: string, env: Record<string, string>, key: string, plugin: Record<string, unknown>): Promise<void> {
  const file = join(home, "acme.json");
  await writeFile(file, JSON.stringify({ name: "acme", authType: "api_key", ...plugin }));
  for (const args of [["providers", "add", file], ["login", "acme"]]) {
    const r = await runCli(args, { env, input: key });
    if (r.code !== 0) throw new Error(`${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  }
}

/** A provider stand-in behind `authsome run`: see {@link startStandIn}. */
export interface StandIn {
  env: Record<string, string>;
  /** `https://<host>:<port>` of the stand-in. */
  origin(host: string): string;
  close(): Promise<void>;
}

/**
 * One HTTPS server answering, after the request's body, as every host in `hosts` (leaves minted
 * per SNI by a test CA the proxy trusts), plus `other.example.test`, the host of a second
 * connected provider (`elsewhere`), so the proxy intercepts it and its tripwire looks there.
 * `logins` are CLI argument lists with their stdin, run in order.
 */
export async function startStandIn(hosts: string[], answer: http.RequestListener, logins: (readonly [string[], string])[]): Promise<StandIn> {
  const home = await tempHome();
  const ca = await createCertificateAuthority(createMemoryCaStore());
  const server = https.createServer({ SNICallback: (name, done) => void ca.leafFor(name).then((leaf) => done(null, tls.createSecureContext({ cert: leaf.certPem, key: leaf.keyPem })), done) });
  server.on("request", (req, res) => {
    req.resume();
    req.on("end", () => answer(req, res));
  });
  const port = await _listen(server);
  const caFile = join(home.home, "upstream-ca.pem");
  await writeFile(caFile, ca.caCertPem());
  const resolve = [...hosts, "other.example.test"].map((h) => `${h}:${port}:127.0.0.1`).join(",");
  const env = { ...home.env, AUTHSOME_UPSTREAM_RESOLVE: resolve, AUTHSOME_UPSTREAM_CA: caFile };
  const elsewhere = join(home.home, "elsewhere.json");
  await writeFile(elsewhere, JSON.stringify({ name: "elsewhere", authType: "api_key", inject: [{ host: "other.example.test" }] }));
  const steps: (readonly [string[], string])[] = [...logins, [["providers", "add", elsewhere], ""], [["login", "elsewhere"], "elsewhere-key-00000000"]];
  for (const [args, input] of steps) {
    const r = await runCli(args, { env, input });
    if (r.code !== 0) throw new Error(`${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  }
  const close = async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await home.cleanup();
  };
  return { env, origin: (host) => `https://${host}:${port}`, close };
}
