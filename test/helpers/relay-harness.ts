/**
 * The raw relay's test setup (test/proxy/relay*.test.ts): a scripted upstream reached as
 * `plain.example.test`, and a local server handing every accepted socket to `relayTunnel`
 * with a test injector, recording injection events.
 */
import net from "node:net";
import type { ForwardContext, InjectionEvent } from "../../src/proxy/forward.ts";
import { relayTunnel } from "../../src/proxy/relay.ts";
import { createUpstream, type Target } from "../../src/proxy/upstream.ts";
import { createTestInjector, type TestInjector } from "./proxy-fixture.ts";
import { echo, startScriptedUpstream, type ScriptedUpstream } from "./raw-peers.ts";

export interface RelayHarness {
  injector: TestInjector;
  /** The injection events of the current test (emptied by `reset`). */
  events: InjectionEvent[];
  /** Starts the upstream and the relay server (for `before`). */
  start(): Promise<{ up: ScriptedUpstream; relayPort: number }>;
  /** A fresh pool and upstream state per test, so connection counts mean what they say (for `beforeEach`). */
  reset(): void;
  /** For `after`. */
  close(): Promise<void>;
}

export function createRelayHarness(): RelayHarness {
  let up: ScriptedUpstream;
  let relayServer: net.Server;
  let target: Target;
  const resolve = new Map<string, string>();
  const events: InjectionEvent[] = [];
  const injector = createTestInjector();
  const ctx: ForwardContext = { injector, upstream: createUpstream(), onInjection: (event) => events.push(event) };
  const sockets = new Set<net.Socket>();
  return {
    injector,
    events,
    async start() {
      up = await startScriptedUpstream();
      resolve.set(`plain.example.test:${up.port}`, "127.0.0.1");
      ctx.upstream = createUpstream({ resolve });
      target = ctx.upstream.target("http", "plain.example.test", up.port);
      // As the proxy's own sockets (node:http's): an agent's half-close leaves our side open.
      relayServer = net.createServer({ allowHalfOpen: true }, (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        relayTunnel(ctx, socket, { target, username: "_" });
      });
      await new Promise<void>((done) => relayServer.listen(0, "127.0.0.1", done));
      return { up, relayPort: (relayServer.address() as net.AddressInfo).port };
    },
    reset() {
      ctx.upstream.close();
      ctx.upstream = createUpstream({ resolve });
      for (const conn of up.conns) conn.socket.destroy();
      up.conns.length = 0;
      up.heads.length = 0;
      up.behave = echo(up);
      events.length = 0;
    },
    async close() {
      ctx.upstream.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((done) => relayServer.close(() => done()));
      await up.close();
    },
  };
}
