/**
 * This machine's identity in a fleet sharing one store: a random id kept in the home
 * (`<home>/machine-id`, made once, 0600) plus the hostname. The fleet audit log puts both in
 * every entry, so `authsome audit` says which machine did what; the id stays the same when a
 * host is renamed, and two homes on one host are told apart.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";

/** Who wrote an entry: the home's machine id and the host's name. */
export interface MachineIdentity {
  id: string;
  host: string;
}

const ID_PATTERN = /^[0-9a-f]{32}$/;
const _cache = new Map<string, MachineIdentity>();

function _host(): string {
  try {
    return hostname();
  } catch {
    return "unknown"; // Deno without --allow-sys
  }
}

/** Reads (or, the first time, creates) the home's machine id. Synchronous: a few microseconds, once per process. */
export function machineIdentity(home: string): MachineIdentity {
  const cached = _cache.get(home);
  if (cached !== undefined) return cached;
  const path = join(home, "machine-id");
  let id: string;
  try {
    id = readFileSync(path, "utf8").trim();
  } catch {
    id = crypto.randomUUID().replaceAll("-", "");
    try {
      // "wx": of two processes creating it at once, one wins and the other reads the winner's.
      writeFileSync(path, `${id}\n`, { mode: 0o600, flag: "wx" });
    } catch {
      id = readFileSync(path, "utf8").trim();
    }
  }
  if (!ID_PATTERN.test(id)) id = `invalid-${id.slice(0, 32).replaceAll(/[^0-9a-z]/gi, "")}`;
  const identity = { id, host: _host() };
  _cache.set(home, identity);
  return identity;
}
