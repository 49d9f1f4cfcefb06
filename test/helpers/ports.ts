/**
 * Loopback ports for servers a test starts later, or starts again on the same port: chosen below
 * the kernel's ephemeral range, so that nothing the kernel assigns by itself (listen(0), an
 * outgoing connection's local port) can take one between the choice and the bind.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** The lowest port the kernel hands out by itself (listen(0), connect()); 32768 when unknown. */
function _ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** Whether 127.0.0.1:`port` can be listened on now (the listener is closed again). */
function _bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A free loopback port (for redirect URIs: released before use, bound later by the CLI, often
 * by every login of a test file). Below the kernel's ephemeral range, so no listen(0) and no
 * outgoing connection anywhere on the machine can take it meanwhile (an ephemeral port chosen
 * by listen(0) could be handed to another test's server, or to a connection's local port,
 * before the CLI's callback server bound it: EADDRINUSE at login); chosen at random in the
 * 10 000 ports under that range, so two test files rarely try the same one.
 */
export async function freePort(): Promise<number> {
  const high = _ephemeralLow();
  const low = Math.max(1024, high - 10_000);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await _bindable(port)) return port;
  }
  throw new Error(`no free loopback port in ${low}-${high - 1}`);
}
