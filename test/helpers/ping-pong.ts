/**
 * An upstream that waits for the agent (issue 10's stall): `/chat?id=&kind=short|paused` sends
 * its first message, and the second only once `/next?id=` came. Both messages are built from
 * the scrubbed key, so the first ends in bytes that could begin it (held back by the scrubber
 * until the upstream is quiet): `short` then turns out not to be the key, `paused` is the key
 * cut after 12 bytes. `sentBeforeNext` records, per stream, what the upstream had sent when the
 * agent asked for more.
 */
import type http from "node:http";

export interface PingPong {
  messages: Record<"short" | "paused", { first: string; second: string }>;
  route: http.RequestListener;
  sentBeforeNext: Map<string, string>;
  /** What the agent must see of a kind: the same bytes with every byte of the key starred. */
  expected(kind: "short" | "paused"): { first: string; rest: string };
}

export function pingPong(key: string): PingPong {
  const messages = {
    short: { first: `event one: ${key.slice(0, 3)}`, second: "m is not the key\nevent two\n" },
    paused: { first: `echo: ${key.slice(0, 12)}`, second: `${key.slice(12)} done\n` },
  };
  const sentBeforeNext = new Map<string, string>();
  const waiting = new Map<string, () => void>();
  const route: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const id = url.searchParams.get("id") ?? "";
    req.resume();
    if (url.pathname === "/next") {
      waiting.get(id)?.();
      return void res.end("ok");
    }
    const m = messages[url.searchParams.get("kind") === "paused" ? "paused" : "short"];
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write(m.first);
    waiting.set(id, () => {
      sentBeforeNext.set(id, m.first);
      res.end(m.second);
    });
  };
  const expected = (kind: "short" | "paused") => {
    const m = messages[kind];
    return { first: m.first.replace(key.slice(0, 12), "*".repeat(12)), rest: m.second.replace(key.slice(12), "*".repeat(key.length - 12)) };
  };
  return { messages, route, sentBeforeNext, expected };
}
