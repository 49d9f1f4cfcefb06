/**
 * `redis+sentinel://` (docs/fleet.md, "Sentinel and Cluster"): the Redis primary found through
 * Redis Sentinel, so a failover needs no DNS change. ioredis speaks Sentinel given a list of
 * sentinels and the monitored name, which a plain redis:// URL cannot say:
 *
 *   redis+sentinel://[user:password@]sentinel1:26379[/name[/db]][?sentinel=host:port&...]
 *
 * The host is the first sentinel, each `sentinel=` another; `name` is the monitored primary
 * (default `mymaster`), `db` the database (default 0). The user and password are the primary's
 * (ACL user or `requirepass`), never sent to the sentinels, which answer without authentication.
 */
import type { RedisOptions } from "ioredis";
import { AuthsomeError } from "../errors.ts";

/** The URL scheme of the Sentinel form. */
export const SENTINEL_PROTOCOL = "redis+sentinel:";

/** True for a `redis+sentinel://` URL. */
export function isSentinelUrl(url: string): boolean {
  return url.startsWith(`${SENTINEL_PROTOCOL}//`);
}

function _address(text: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(text);
  const port = Number(match?.[2] ?? 26379);
  if (match === null || match[1] === undefined || !(port > 0 && port < 65536)) {
    // A sentinel's address is no secret: safe to show.
    throw new AuthsomeError("usage", `AUTHSOME_STORAGE: ${JSON.stringify(text.slice(0, 100))} is not a sentinel host[:port]`);
  }
  return { host: match[1], port };
}

/** ioredis options for a `redis+sentinel://` URL (the sentinels, the primary's name, db and credentials). */
export function sentinelOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  const [name = "", db = ""] = parsed.pathname.split("/").filter((part) => part !== "");
  if (db !== "" && !/^\d{1,2}$/.test(db)) throw new AuthsomeError("usage", "AUTHSOME_STORAGE: the database of a redis+sentinel:// URL is a number (…/name/0)");
  const first = parsed.port === "" ? parsed.hostname : `${parsed.hostname}:${parsed.port}`;
  return {
    sentinels: [first, ...parsed.searchParams.getAll("sentinel")].map(_address),
    name: name === "" ? "mymaster" : decodeURIComponent(name),
    db: db === "" ? 0 : Number(db),
    ...(parsed.username === "" ? {} : { username: decodeURIComponent(parsed.username) }),
    ...(parsed.password === "" ? {} : { password: decodeURIComponent(parsed.password) }),
  };
}
