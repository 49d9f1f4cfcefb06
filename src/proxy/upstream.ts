/**
 * Connections from the proxy to the real servers: pooled keep-alive agents, TLS verified against
 * the system roots (plus `AUTHSOME_UPSTREAM_CA` when given), and curl-style resolve overrides.
 */
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import { formatAuthority, resolveKey } from "./address.ts";
import { createConnectionPool, type ConnectionOwner, type UpstreamConnection } from "./pool.ts";

export type { ConnectionOwner, UpstreamConnection } from "./pool.ts";

/** Options for {@link createUpstream}. */
export interface UpstreamOptions {
  /** Normalised `host:port` -> IP address to connect to instead (curl `--resolve` semantics). */
  resolve?: Map<string, string>;
  /** PEM certificate(s) trusted for upstream TLS in addition to the system roots. */
  extraCaPem?: string;
}

/** Where one request (or tunnel) goes. Built once per CONNECT, or per absolute-form request. */
export interface Target {
  scheme: "http" | "https";
  /** Normalised host: what rules, leaves and TLS verification use. */
  host: string;
  port: number;
  /** The `Host` header value: host, and port unless the scheme's default. */
  authority: string;
  /** `scheme://authority`: the base of the URL handed to the injector. */
  origin: string;
  /** The address actually dialled (the host, or its resolve override). */
  address: string;
  /** The TLS server name (SNI, certificate check): the host, unless it is an IP address. */
  servername?: string;
  /** Connections to equal keys are interchangeable (pooled together). */
  key: string;
}

/** The proxy's side of upstream connections. */
export interface Upstream {
  target(scheme: "http" | "https", host: string, port: number): Target;
  /** Starts a request; the caller writes or pipes the body and handles the events. */
  request(target: Target, method: string, path: string, headers: string[], upgrade: boolean): http.ClientRequest;
  /** A raw TCP connection for a blind tunnel. */
  connect(target: Target): net.Socket;
  /** A raw HTTP/1.1 connection for the relay: an idle pooled one, else a new one (TLS for https). */
  acquire(target: Target, owner: ConnectionOwner): UpstreamConnection;
  /** Gives a connection whose last response ended cleanly back to the pool. */
  release(connection: UpstreamConnection): void;
  /** The upstream trust roots (undefined: the runtime's defaults), for the HTTP/2 sessions (h2-upstream.ts). */
  readonly secureContext: tls.SecureContext | undefined;
  /** Closes pooled connections. */
  close(): void;
}

/** Trust contexts by extra CA, shared by every connection and every session of the process. */
const contexts = new Map<string, tls.SecureContext>();

/**
 * The system roots plus `pem`, built once per process: parsing ~150 roots costs ~75 ms of CPU,
 * once per connection at first, then once per session, which was most of what a daemon hosting a
 * hundred runs at once spent.
 */
function _contextWithCa(pem: string): tls.SecureContext {
  let context = contexts.get(pem);
  if (context === undefined) {
    context = tls.createSecureContext({ ca: [...tls.rootCertificates, pem] });
    if (contexts.size < 8) contexts.set(pem, context);
  }
  return context;
}

/** Builds the upstream side: one keep-alive pool for HTTP and one for HTTPS. */
export function createUpstream(options: UpstreamOptions = {}): Upstream {
  const resolve = options.resolve ?? new Map<string, string>();
  const secureContext = options.extraCaPem === undefined ? undefined : _contextWithCa(options.extraCaPem);
  const agentOptions = { keepAlive: true, scheduling: "lifo" as const, noDelay: true };
  const httpAgent = new http.Agent(agentOptions);
  const httpsAgent = new https.Agent(
    secureContext === undefined ? agentOptions : { ...agentOptions, secureContext },
  );
  const pool = createConnectionPool(secureContext);

  return {
    target(scheme, host, port) {
      const authority = formatAuthority(host, port, scheme === "https" ? 443 : 80);
      const address = resolve.get(resolveKey(host, port)) ?? host;
      const key = `${scheme}://${address}:${port}/${host}`;
      const target: Target = { scheme, host, port, authority, origin: `${scheme}://${authority}`, address, key };
      // Worked out once per tunnel rather than per request.
      if (net.isIP(host) === 0) target.servername = host;
      return target;
    },
    request(target, method, path, headers, upgrade) {
      if (target.scheme === "http") {
        // A WebSocket connection leaves the pool for good: give it its own socket.
        return http.request({ host: target.address, port: target.port, method, path, headers, agent: upgrade ? false : httpAgent });
      }
      return https.request({
        host: target.address,
        port: target.port,
        method,
        path,
        headers,
        agent: upgrade ? false : httpsAgent,
        // SNI and certificate checks use the target name even when a resolve override dials an IP.
        ...(target.servername === undefined ? {} : { servername: target.servername }),
        ...(upgrade && secureContext !== undefined ? { secureContext } : {}),
      });
    },
    connect(target) {
      return net.connect({ host: target.address, port: target.port, noDelay: true });
    },
    secureContext,
    acquire: (target, owner) => pool.acquire(target, owner),
    release: (connection) => pool.release(connection),
    close() {
      httpAgent.destroy();
      httpsAgent.destroy();
      pool.close();
    },
  };
}

const CERTIFICATE_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "CERT_SIGNATURE_FAILURE",
  "INVALID_CA",
]);

/**
 * A one-line reason for a failed upstream connection, for the 502 body. Names the target and
 * the error code only: upstream error messages are not ours to echo.
 */
export function describeUpstreamError(error: unknown, target: Target): string {
  const code = _errorCode(error);
  const where = `${target.host}:${target.port}`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `the TLS certificate of ${where} is not valid for the name ${target.host} (${code})`;
  }
  if (CERTIFICATE_CODES.has(code)) {
    return (
      `the TLS certificate of ${where} is not trusted (${code}); for a test or development ` +
      "server, trust its CA with AUTHSOME_UPSTREAM_CA"
    );
  }
  if (code === "ECONNREFUSED" || code === "ENOTFOUND" || code === "EHOSTUNREACH" || code === "ETIMEDOUT") {
    return `cannot reach ${where} (${code})`;
  }
  if (code.startsWith("ERR_SSL") || code.startsWith("ERR_TLS")) return `TLS with ${where} failed (${code})`;
  return `the connection to ${where} failed (${code})`;
}

function _errorCode(error: unknown): string {
  if (typeof error === "object" && error !== null && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return "unknown error";
}
