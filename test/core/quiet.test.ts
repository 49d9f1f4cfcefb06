/**
 * The quiet timer of held-back bytes (src/core/quiet.ts): a flush that falls due while the
 * sender's next bytes are already readable must lose to them. That is what a process
 * descheduled past the deadline (a loaded machine) wakes up to: a due timer and pending I/O.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { test } from "node:test";
import { QUIET_MS, QuietTimer } from "../../src/core/quiet.ts";

/** Keeps this thread busy (not asleep): a stand-in for the process being descheduled. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

test("a due flush waits for bytes that are already readable, and loses to them", async () => {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const client = connect((server.address() as AddressInfo).port, "127.0.0.1");
  await once(client, "connect");
  const [peer] = await accepted;
  try {
    const events: string[] = [];
    const timer = new QuietTimer(() => events.push("flush"));
    const arrived = new Promise<void>((resolve) => {
      client.on("data", () => {
        timer.cancel();
        events.push("data");
        resolve();
      });
    });
    timer.arm();
    peer.write("more");
    // The bytes reach the client's socket while this thread is busy past the deadline.
    busy(QUIET_MS * 3);
    await arrived;
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS * 2));
    assert.deepEqual(events, ["data"]);
  } finally {
    client.destroy();
    peer.destroy();
    server.close();
  }
});

test("with nothing readable, a due flush runs", async () => {
  const flushed = new Promise<void>((resolve) => new QuietTimer(resolve).arm());
  await flushed;
});
