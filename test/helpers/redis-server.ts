/**
 * Starts a throwaway redis-server on a free loopback port for one test file.
 */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createConnection, createServer } from "node:net";

/** A running redis-server child. */
export interface RedisServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

async function _freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (address === null || typeof address === "string") throw new Error("no port assigned");
  return address.port;
}

/** Sends PING over a raw socket; true on +PONG. */
function _ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    let reply = "";
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString();
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.on("error", () => done(false));
  });
}

/** Why redis-server cannot run here, or undefined when it can. */
export function redisUnavailableReason(): string | undefined {
  const probe = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return probe.error === undefined && probe.status === 0 ? undefined : "redis-server is not installed (apt-get install redis-server)";
}

/** Starts redis-server without persistence and resolves once it answers PING (10 s at most). */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await _freePort();
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let exited = false;
  const exit = once(child, "exit").then(() => (exited = true));
  const stop = async (): Promise<void> => {
    if (!exited) child.kill("SIGTERM");
    await exit;
  };
  const deadline = Date.now() + 10_000;
  for (let delay = 5; !(await _ping(port)); delay = Math.min(delay * 2, 100)) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server on port ${port} did not answer PING`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
  return { url: `redis://127.0.0.1:${port}/0`, port, stop };
}
