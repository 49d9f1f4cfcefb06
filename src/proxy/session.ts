/**
 * A proxy session for `authsome run`: the home's CA (sealed in the store: src/proxy/ca-store.ts),
 * the core injector over the service's vault, a fresh per-run proxy credential, the upstream
 * overrides from the environment, and an audit entry per injection. Also writes the trust
 * bundle the child gets (system roots + the home's CA) into a folder of the run's own.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import type { AuthService } from "../core/auth-service.ts";
import { constantTimeEqual, randomToken } from "../core/crypto.ts";
import { ensurePrivateDir, writeFileAtomic } from "../core/files.ts";
import { type AuditEvent, createAuditBatcher } from "../core/audit.ts";
import { createInjector } from "../core/inject.ts";
import type { Injector } from "../core/injector.ts";
import { limitYoungGeneration, processAlive } from "../runtime/index.ts";
import type { ServiceCore } from "../core/service.ts";
import { type CertificateAuthority, createCertificateAuthority } from "./ca.ts";
import { createVaultCaStore } from "./ca-store.ts";
import { createProxy } from "./server.ts";
import { readUpstreamOverrides } from "../runtime/upstream.ts";
import { injectionAuditEntry } from "../core/egress.ts";
import { createTripwire } from "../core/tripwire.ts";
import { runPlaceholders } from "./child.ts";

/** Options for {@link startProxySession}. */
export interface ProxySessionOptions {
  /** Per-run provider -> connection choices (`run --connection p=NAME`). */
  connections?: Record<string, string>;
  /** `run --deny-unmatched`: 403 for hosts no connected provider declares. */
  denyUnmatched?: boolean;
  /** A CA shared by several sessions (the daemon's), so leaves are minted once per host. */
  ca?: CertificateAuthority;
  /** Hears what the run does as it happens (the dashboard's live view); never a header value. */
  observer?: ProxyObserver;
  /**
   * Trust files already written for `ca` (the daemon writes one set for all the runs it hosts:
   * one CA, so one bundle); this session neither writes nor removes them.
   */
  trustFiles?: { caPath: string; bundlePath: string };
}

/** What a session reports besides the audit log: hosts contacted, injections, refusals. */
export interface ProxyObserver {
  /** Every audit event of the session (injections, tripwire refusals), as it is queued. */
  audit?(event: AuditEvent): void;
  /** A host the agent asked for (CONNECT, SOCKS or an http:// URL) and whether it is intercepted. */
  host?(host: string, port: number, intercepted: boolean): void;
  /** A host refused by `denyUnmatched`. */
  denied?(host: string, port: number): void;
}

/** The injector, reporting each host it is asked about (the proxy asks once per tunnel or target). */
function _observed(injector: Injector, observer: ProxyObserver | undefined): Injector {
  const host = observer?.host;
  if (host === undefined) return injector;
  return {
    ...injector,
    async shouldIntercept(name, port) {
      const intercepted = await injector.shouldIntercept(name, port);
      host(name, port, intercepted);
      return intercepted;
    },
  };
}

/** A running proxy session. */
export interface ProxySession {
  /** `http://_:<token>@127.0.0.1:<port>` */
  proxyUrl: string;
  port: number;
  /** PEM file with the system roots and the home's CA (for SSL_CERT_FILE and friends). */
  bundlePath: string;
  /** PEM file with only the home's CA (for NODE_EXTRA_CA_CERTS). */
  caPath: string;
  close(): Promise<void>;
}

const RUNS_DIR = "runs";

/** The home's (or, on a shared store, this machine's) CA: src/proxy/ca-store.ts. */
export { createVaultCaStore } from "./ca-store.ts";

/** The injector, intercepting only hosts the CA may sign for (a name-constrained CA refuses others: they are tunnelled). */
function _covered(injector: Injector, ca: CertificateAuthority): Injector {
  return { ...injector, shouldIntercept: async (name, port) => (await injector.shouldIntercept(name, port)) && ca.covers(name) };
}

/** Removes the trust-file folders of runs whose process died without closing them (kill -9). */
async function _sweepDeadRuns(dir: string): Promise<void> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  await Promise.all(entries.map(async (name) => {
    const pid = Number(/^run-(\d+)-/.exec(name)?.[1] ?? Number.NaN);
    if (Number.isInteger(pid) && pid !== process.pid && !processAlive(pid)) await rm(join(dir, name), { recursive: true, force: true });
  }));
}

/**
 * Writes the files a child trusts into a folder of this run alone (mkdtemp, 0700), each
 * atomically: another run, even one that made a new CA, can neither swap nor tear them.
 */
export async function writeTrustFiles(home: string, caPem: string): Promise<{ caPath: string; bundlePath: string; remove(): Promise<void> }> {
  const runs = join(home, RUNS_DIR);
  await ensurePrivateDir(runs);
  await _sweepDeadRuns(runs);
  const dir = await mkdtemp(join(runs, `run-${process.pid}-`));
  const caPath = join(dir, "ca.pem");
  const bundlePath = join(dir, "ca-bundle.pem");
  // Certificates are public: 0644, the folder's 0700 keeps other users out anyway.
  await writeFileAtomic(caPath, caPem, 0o644);
  await writeFileAtomic(bundlePath, `${rootCertificates.join("\n")}\n${caPem}`, 0o644);
  return { caPath, bundlePath, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Starts the proxy for one run on an ephemeral loopback port. */
export async function startProxySession(service: AuthService, options: ProxySessionOptions = {}): Promise<ProxySession> {
  const core = service.core;
  // A proxy process lives for the run and moves every byte its agents send: keep its heap small.
  limitYoungGeneration();
  const ca = options.ca ?? (await createCertificateAuthority(createVaultCaStore(core)));
  const files = options.trustFiles === undefined ? await writeTrustFiles(core.context.home, ca.caCertPem()) : { ...options.trustFiles, remove: async () => {} };
  const token = randomToken(24);
  // Injections are audited in batches off the request path; close() flushes so none is lost.
  const audit = createAuditBatcher((events) => core.recordMany(events));
  const injector = createInjector(core, options.connections === undefined ? {} : { connections: options.connections });
  const proxyUrl = (port: number) => `http://_:${token}@127.0.0.1:${port}`;
  // The child's placeholders are derived from the run token (child.ts), so this proxy knows
  // them whoever builds the child's environment; exfiltration attempts are audited with the rest.
  const tripwire = createTripwire(core, {
    placeholders: async () => runPlaceholders(proxyUrl(0), (await core.registry.list()).plugins),
    onEvent: (event) => {
      audit.add(event);
      options.observer?.audit?.(event);
    },
  });
  // Refusals being recorded; close() waits for them, as it flushes the audit log.
  const refusals = new Set<Promise<unknown>>();
  const proxy = createProxy({
    tripwire,
    injector: _observed(_covered(injector, ca), options.observer),
    authenticate: (_user, password) => constantTimeEqual(password, token),
    ca,
    denyUnmatched: options.denyUnmatched === true,
    upstream: await readUpstreamOverrides(),
    onInjection: (event) => {
      const entry = injectionAuditEntry(event);
      audit.add(entry);
      options.observer?.audit?.(entry);
    },
    ...(options.observer?.denied === undefined ? {} : { onDenied: options.observer.denied }),
    // A refused injected request (401/403): a step-up recorded, a dead token expired so the next
    // request refreshes (src/mcp/step-up.ts, loaded only when a server refuses).
    onRefusal: (decision, status, challenge, host, method) => {
      const noted = import("../mcp/step-up.ts").then((m) => m.noteRefusal(core, decision, status, challenge, host, method)).catch(() => null);
      refusals.add(noted);
      void noted.finally(() => refusals.delete(noted));
      return noted;
    },
  });
  const address = await proxy.listen(0, "127.0.0.1");
  return {
    proxyUrl: proxyUrl(address.port),
    port: address.port,
    bundlePath: files.bundlePath,
    caPath: files.caPath,
    close: async () => {
      await proxy.close();
      injector.close?.();
      tripwire.close();
      await Promise.allSettled([...refusals]);
      await audit.flush();
      await files.remove();
    },
  };
}
