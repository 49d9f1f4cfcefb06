/**
 * The local stand-in for a plugin's declared endpoints, for the conformance suite's `login`
 * and `injection` checks: one loopback HTTP server that plays the provider's authorization
 * server (authorize, token with PKCE S256 checked, device authorization, dynamic registration,
 * revocation) and its API hosts (every other path: the request is recorded, answered 200).
 * It approves every login at once and issues one access token, so a check knows which secret
 * to look for on the injected request.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** An API request the stand-in received. */
export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  /** Header names lower-case. */
  headers: Record<string, string>;
}

/** A running stand-in. */
export interface StandIn {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The access token its token endpoint issues. */
  accessToken: string;
  /** API requests received, in order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const MAX_BODY = 64 * 1024;
const DEVICE_CODE = "conformance-device";

/** Starts the stand-in on an ephemeral loopback port. */
export async function startStandIn(): Promise<StandIn> {
  const accessToken = `conformance-${randomBytes(12).toString("hex")}`;
  const requests: RecordedRequest[] = [];
  const challenges = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    _handle(req, res, { accessToken, requests, challenges }).catch(() => _json(res, 500, { error: "server_error" }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    accessToken,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

interface State {
  accessToken: string;
  requests: RecordedRequest[];
  /** Authorization code -> its PKCE challenge ("" when the client sent none). */
  challenges: Map<string, string>;
}

async function _handle(req: IncomingMessage, res: ServerResponse, state: State): Promise<void> {
  const url = new URL(req.url ?? "/", "http://stand-in.invalid");
  const body = req.method === "POST" ? await _body(req) : "";
  if (url.pathname === "/__authsome/authorize") return _authorize(url, res, state);
  if (url.pathname === "/__authsome/token") {
    // `deviceTokenRequest: "json"` polls send exactly {"device_code"} as JSON (flows/device-json.ts).
    if ((req.headers["content-type"] ?? "").startsWith("application/json")) return _jsonPoll(body, res, state);
    return _token(new URLSearchParams(body), res, state);
  }
  if (url.pathname === "/__authsome/device") return _json(res, 200, { device_code: DEVICE_CODE, user_code: "CONF-TEST", verification_uri: "http://127.0.0.1/device", expires_in: 60, interval: 1 });
  if (url.pathname === "/__authsome/register") return _json(res, 201, { client_id: "conformance-registered", token_endpoint_auth_method: "none" });
  if (url.pathname === "/__authsome/revoke") return void res.writeHead(200).end();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) headers[name] = Array.isArray(value) ? value.join(", ") : (value ?? "");
  state.requests.push({ method: req.method ?? "GET", path: req.url ?? "/", headers });
  _json(res, 200, { ok: true });
}

/** Approves at once: back to the client's redirect URI with a code and its state. */
function _authorize(url: URL, res: ServerResponse, state: State): void {
  const redirect = url.searchParams.get("redirect_uri");
  if (redirect === null || !/^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(redirect)) return _json(res, 400, { error: "invalid_request" });
  const code = randomBytes(12).toString("hex");
  state.challenges.set(code, url.searchParams.get("code_challenge") ?? "");
  const back = new URL(redirect);
  back.searchParams.set("code", code);
  const given = url.searchParams.get("state");
  if (given !== null) back.searchParams.set("state", given);
  res.writeHead(302, { location: back.href }).end();
}

function _token(form: URLSearchParams, res: ServerResponse, state: State): void {
  const grant = form.get("grant_type") ?? "";
  if (grant === "authorization_code") {
    const code = form.get("code") ?? "";
    const challenge = state.challenges.get(code);
    state.challenges.delete(code);
    const verifier = form.get("code_verifier") ?? "";
    const derived = createHash("sha256").update(verifier).digest("base64url");
    if (challenge === undefined || (challenge !== "" && challenge !== derived)) return _json(res, 400, { error: "invalid_grant" });
  }
  _json(res, 200, { access_token: state.accessToken, token_type: "Bearer", expires_in: 3600, refresh_token: "conformance-refresh", scope: form.get("scope") ?? undefined });
}

function _jsonPoll(body: string, res: ServerResponse, state: State): void {
  let poll: unknown;
  try {
    poll = JSON.parse(body);
  } catch {
    poll = undefined;
  }
  const exact = typeof poll === "object" && poll !== null && "device_code" in poll && poll.device_code === DEVICE_CODE && Object.keys(poll).length === 1;
  if (!exact) return _json(res, 400, { error: "invalid_request" });
  _json(res, 200, { access_token: state.accessToken, token_type: "Bearer", expires_in: 3600 });
}

function _json(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(value));
}

function _body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) req.destroy(new Error("body too large"));
    });
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}
