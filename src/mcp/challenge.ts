/**
 * The parts of a `WWW-Authenticate: Bearer ...` challenge MCP clients act on (RFC 6750 3,
 * RFC 9728 5.1): `error` (`invalid_token`, `insufficient_scope`), `scope` (what the resource
 * wants) and `resource_metadata` (where its protected-resource metadata is).
 */

/** A Bearer challenge's parameters (absent when the header did not say). */
export interface BearerChallenge {
  error?: string;
  scope?: string[];
  resourceMetadata?: string;
}

const PARAM = /([A-Za-z0-9_.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))/g;

/**
 * Parses the Bearer challenge out of a `WWW-Authenticate` value; null when there is none.
 * Parameters of other schemes in the same header (`Basic realm=...`) are not mixed in: only
 * the text after `Bearer` up to the next scheme is read.
 */
export function parseBearerChallenge(header: string | null | undefined): BearerChallenge | null {
  if (header === null || header === undefined) return null;
  const start = /(?:^|,)\s*Bearer(?:\s+|$)/i.exec(header);
  if (start === null) return null;
  let rest = header.slice(start.index + start[0].length);
  const next = /,\s*[A-Za-z][A-Za-z0-9_-]*\s+[A-Za-z0-9_.-]+\s*=/.exec(rest);
  const scheme = next !== null && !/^,\s*(error|scope|resource_metadata|realm|error_description|error_uri)\s*=/i.test(next[0]) ? next.index : -1;
  if (scheme >= 0) rest = rest.slice(0, scheme);
  const found: BearerChallenge = {};
  for (const match of rest.matchAll(PARAM)) {
    const name = (match[1] ?? "").toLowerCase();
    const value = match[2] === undefined ? (match[3] ?? "") : match[2].replaceAll(/\\(.)/g, "$1");
    if (name === "error") found.error = value;
    else if (name === "scope") found.scope = value.split(/\s+/).filter(Boolean);
    else if (name === "resource_metadata") found.resourceMetadata = value;
  }
  return found;
}

/** True when a response says the token lacks scope (RFC 6750 3.1: 403 `insufficient_scope`; some servers send 401). */
export function isInsufficientScope(status: number, challenge: BearerChallenge | null): boolean {
  return (status === 403 || status === 401) && challenge?.error === "insufficient_scope";
}
