/**
 * Proxy runs hosted by the home's daemon: `authsome run` asks the daemon (when one is running)
 * for a proxy session instead of starting its own. Each run still gets its own loopback port and
 * per-run token; the daemon shares one CA (one leaf per host) and reaps a run whose `authsome
 * run` process died without saying goodbye.
 */
import type { Hono } from "hono";
import * as v from "valibot";
import type { AuthService } from "../core/auth-service.ts";
import { randomToken } from "../core/crypto.ts";
import { AuthsomeError, toAuthsomeError } from "../core/errors.ts";
import type { CertificateAuthority } from "../proxy/ca.ts";
import type { ProxySession } from "../proxy/session.ts";
import type { RunRegistry } from "./run-registry.ts";
import { processAlive } from "../runtime/index.ts";
import { parseBody } from "./routes.ts";

const RunBody = v.strictObject({
  profile: v.optional(v.string()),
  connections: v.optional(v.record(v.string(), v.string())),
  deny_unmatched: v.optional(v.boolean()),
  /** The `authsome run` process; the run is closed when it is gone. */
  pid: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  /** The command's name (no arguments), shown in the dashboard's live view. */
  command: v.optional(v.pipe(v.string(), v.maxLength(200))),
});

interface SharedCa {
  ca: CertificateAuthority;
  trustFiles: { caPath: string; bundlePath: string; remove(): Promise<void> };
}

interface HostedRun {
  session: ProxySession;
  pid: number | undefined;
}

/**
 * Runs at most `max` tasks at once, the rest in arrival order. A hundred agents starting at once
 * leave the daemon a sliver of the CPU; sessions made all at once would all finish late (every
 * run past its deadline), made in turn the first runs are hosted at once and the rest wait.
 */
function _fifo(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) active--;
      else next();
    }
  };
}

/**
 * Adds `POST /v1/runs` and `DELETE /v1/runs/:id` to the daemon's app; returns a closer. Each
 * run is registered in `registry` (the dashboard's live view) while it lasts.
 */
export function mountRuns(app: Hono, getService: (profile: string | undefined) => Promise<AuthService>, registry?: RunRegistry): (() => Promise<void>) & { warm(): Promise<void> } {
  const runs = new Map<string, HostedRun>();
  const cas = new Map<string, Promise<SharedCa>>();
  // One CA per home for every run the daemon hosts (one leaf per host), and so one set of
  // trust files: writing a 200 KB bundle per run was most of a hosted run's cost here.
  const sharedCa = (service: AuthService): Promise<SharedCa> => {
    const home = service.context.home;
    let shared = cas.get(home);
    if (shared === undefined) {
      shared = (async () => {
        const [{ createCertificateAuthority }, { createVaultCaStore, writeTrustFiles }] = await Promise.all([import("../proxy/ca.ts"), import("../proxy/session.ts")]);
        const ca = await createCertificateAuthority(createVaultCaStore(service.core));
        return { ca, trustFiles: await writeTrustFiles(home, ca.caCertPem()) };
      })();
      shared.catch(() => cas.delete(home));
      cas.set(home, shared);
    }
    return shared;
  };
  const close = async (id: string) => {
    const run = runs.get(id);
    runs.delete(id);
    await run?.session.close();
    registry?.end(id);
  };
  const reaper = setInterval(() => {
    for (const [id, run] of runs) if (run.pid !== undefined && !processAlive(run.pid)) void close(id);
  }, 2000);
  (reaper as { unref?: () => void }).unref?.();

  const inTurn = _fifo(2);
  const create = async (body: v.InferOutput<typeof RunBody>) => {
    const service = await getService(body.profile);
    const { startProxySession } = await import("../proxy/session.ts");
    const id = randomToken(12);
    const observer = registry?.start(id, { pid: body.pid, command: body.command, profile: service.context.profile, denyUnmatched: body.deny_unmatched === true });
    const session = await startProxySession(service, {
      ...(body.connections === undefined ? {} : { connections: body.connections }),
      denyUnmatched: body.deny_unmatched === true,
      ...(await sharedCa(service)),
      ...(observer === undefined ? {} : { observer }),
    }).catch((error: unknown) => {
      registry?.end(id);
      throw error;
    });
    runs.set(id, { session, pid: body.pid });
    // The run needs the connected providers (its child's placeholders): said here, not asked again.
    const providers = (await service.listProviders()).providers.filter((p) => p.connections.length > 0).map((p) => p.name);
    return { id, proxy_url: session.proxyUrl, port: session.port, bundle_path: session.bundlePath, ca_path: session.caPath, providers };
  };
  app.post("/v1/runs", async (c) => {
    const body = parseBody(RunBody, await c.req.json().catch(() => undefined));
    const made = inTurn(() => create(body));
    // 202 and its headers now, the session (or its error) as the body when it is made: a daemon
    // starved by a hundred agents starting at once has said "accepted" long before, so the run
    // waits its turn instead of giving up on a daemon that is working through a queue.
    let gone = false;
    const answer = new ReadableStream<Uint8Array>({
      async start(controller) {
        const result = await made.then((run) => ({ run }), (error: unknown) => toAuthsomeError(error).toJSON());
        if (!gone) controller.enqueue(new TextEncoder().encode(JSON.stringify(result)));
        controller.close();
      },
      cancel() {
        gone = true;
        // The run gave up (and hosts its own proxy): the session made for it is closed.
        void made.then((run) => close(run.id), () => {});
      },
    });
    return new Response(answer, { status: 202, headers: { "content-type": "application/json" } });
  });
  app.delete("/v1/runs/:id", async (c) => {
    const id = c.req.param("id");
    if (!runs.has(id)) throw new AuthsomeError("usage", "no such run");
    await close(id);
    return c.json({ closed: id });
  });
  const closeAll = async () => {
    clearInterval(reaper);
    await Promise.all([...runs.keys()].map(close));
    await Promise.all([...cas.values()].map((shared) => shared.then((s) => s.trustFiles.remove(), () => {})));
  };
  // Made before the daemon listens: the first of a hundred runs arriving at once would otherwise
  // pay for the CA and the proxy's modules while every other run waits behind it.
  const warm = async () => void (await Promise.all([getService(undefined).then(sharedCa), import("../proxy/session.ts")]));
  return Object.assign(closeAll, { warm });
}
