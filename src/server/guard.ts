/**
 * What every local listener (the daemon's API, the one-time secret forms) refuses before any
 * route runs: a `Host` that is not the loopback address and port it listens on (DNS rebinding:
 * a web page whose name resolves to 127.0.0.1 would otherwise be "same-origin" with us), and for
 * state-changing requests a foreign `Origin` or `Sec-Fetch-Site`. Browsers may send those
 * cross-site as "simple requests" without a CORS preflight, so the answer, not CORS, must stop them.
 */
import { AuthsomeError } from "../core/errors.ts";

/** The names a loopback listener on `port` may be addressed by, lower case, as a `Host` carries them. */
export function loopbackHosts(port: number): string[] {
  const names = ["127.0.0.1", "localhost", "[::1]"];
  // A client omits the default port from Host (RFC 9110 section 7.2).
  return port === 80 ? [...names.map((name) => `${name}:80`), ...names] : names.map((name) => `${name}:${port}`);
}

/** True when `host` (a `Host` header value, or undefined) names this loopback listener. */
export function isLoopbackHost(host: string | undefined, port: number): boolean {
  return host !== undefined && port > 0 && loopbackHosts(port).includes(host.trim().toLowerCase());
}

/** Methods that change state: they need a JSON body type and no foreign origin. */
const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** True for `application/json` with or without parameters (`; charset=utf-8`). */
export function isJsonContentType(value: string | undefined): boolean {
  return (value ?? "").split(";")[0]?.trim().toLowerCase() === "application/json";
}

/**
 * Null when a request's `Origin` and `Sec-Fetch-Site` allow it, else why not. No `Origin` is
 * fine (curl, our own client); "null" (sandboxed frames, some redirects) is not our origin.
 */
export function foreignOriginReason(headers: { origin: string | undefined; fetchSite: string | undefined; host: string }): string | null {
  const site = headers.fetchSite?.trim().toLowerCase();
  if (site === "cross-site" || site === "same-site") return `a ${site} request`;
  if (headers.origin !== undefined && headers.origin.trim().toLowerCase() !== `http://${headers.host.trim().toLowerCase()}`) {
    return "a request from another origin";
  }
  return null;
}

/** The request as the guard sees it: method and the headers it reads. */
export interface GuardedRequest {
  method: string;
  header(name: string): string | undefined;
}

/**
 * Throws the coded refusal for a request to the loopback listener on `port`, or returns. Health
 * is not exempt: no legitimate client reaches us by another name, and a rebinding page should
 * not even learn that a daemon runs.
 */
export function checkLocalRequest(request: GuardedRequest, port: number, options: { json: boolean }): void {
  const host = request.header("host");
  if (!isLoopbackHost(host, port)) {
    throw new AuthsomeError("host_refused", "the Host header does not name this local server", {
      hint: `address it as http://127.0.0.1:${port}`,
    });
  }
  if (!STATE_CHANGING.has(request.method.toUpperCase())) return;
  const reason = foreignOriginReason({ origin: request.header("origin"), fetchSite: request.header("sec-fetch-site"), host: host ?? "" });
  if (reason !== null) throw new AuthsomeError("origin_refused", `${reason} may not change anything here`);
  if (options.json && !isJsonContentType(request.header("content-type"))) {
    throw new AuthsomeError("content_type_refused", "a request that changes state must have Content-Type: application/json");
  }
}
