/**
 * The stdio bridge's side towards the MCP server: Streamable HTTP (POSTed JSON-RPC answered
 * with JSON or an event stream, plus the GET stream for server-initiated messages), falling
 * back to the legacy SSE transport (a GET stream that names the URL to POST to) when the
 * server refuses Streamable HTTP's first POST. The token goes on every request, read afresh
 * each time (a refresh during a long stream is used by the next request); a 401 gets one
 * refresh and one retry, a 403 `insufficient_scope` one re-authorization, never more.
 */
import { type BearerChallenge, isInsufficientScope, parseBearerChallenge } from "./challenge.ts";
import { mcpFetch } from "./http.ts";
import { readEvents } from "./sse.ts";
import type { TokenSource } from "./token-source.ts";

/** What the session reports to the bridge. */
export interface RemoteHooks {
  /** A JSON-RPC message from the server (one JSON text). */
  message(json: string): void;
  /** A diagnostic line (stderr). */
  log(line: string): void;
  /** The server wants `scopes`: re-authorize; resolves true when a retry is worth it. */
  reauthorize(scopes: string[]): Promise<boolean>;
  /** A request carried the token and got `status` (the audit log's `inject` entry). */
  injected?(host: string, method: string, status: number): void;
}

const STREAM_TIMEOUT_MS = 120_000;

type Outcome = { ok: true; response: Response } | { ok: false; status: number; reason: string };

/** One MCP session with the remote server. */
export class RemoteSession {
  #url: URL;
  #tokens: TokenSource;
  #hooks: RemoteHooks;
  #mode: "unknown" | "streamable" | "sse" = "unknown";
  #sessionId: string | undefined;
  #protocolVersion: string | undefined;
  #postUrl: Promise<URL> | undefined;
  #abort = new AbortController();
  #streamReady: Promise<void> | undefined;

  constructor(url: URL, tokens: TokenSource, hooks: RemoteHooks) {
    this.#url = url;
    this.#tokens = tokens;
    this.#hooks = hooks;
  }

  /** Which transport the session speaks (after the first message). */
  get mode(): string {
    return this.#mode;
  }

  /** Sends one client message; answers (or a JSON-RPC error) arrive through `hooks.message`. */
  async send(json: string): Promise<void> {
    const parsed = _peek(json);
    // A failure before any answer (no token, a login needed, the server unreachable) still
    // answers the request: a client waiting on it would otherwise time out.
    try {
      await this.#send(json, parsed);
    } catch (error) {
      this.#fail(parsed.id, error instanceof Error ? error.message : String(error));
    }
  }

  async #send(json: string, parsed: { method?: string; id?: unknown }): Promise<void> {
    if (parsed.method === "notifications/initialized" && this.#mode === "streamable" && this.#streamReady === undefined) {
      // Set before the first await: the messages after this one (sent at once by the client)
      // wait until the GET stream is open, so a notification answering them is not dropped.
      let opened: () => void = () => {};
      this.#streamReady = new Promise<void>((resolve) => (opened = resolve));
      try {
        const outcome = await this.#request(this.#url, "POST", json, true);
        if (!outcome.ok) return this.#fail(parsed.id, outcome.reason);
        await this.#deliver(outcome.response, parsed.method);
        await this.#openGetStream();
      } finally {
        opened();
      }
      return;
    }
    await this.#streamReady;
    if (this.#mode === "unknown" && parsed.method === "initialize") {
      const first = await this.#request(this.#url, "POST", json, true);
      if (first.ok) {
        this.#mode = "streamable";
        return this.#deliver(first.response, parsed.method);
      }
      if (![400, 404, 405].includes(first.status)) return this.#fail(parsed.id, first.reason);
      this.#hooks.log(`authsome: ${this.#url.host} refused Streamable HTTP (HTTP ${first.status}); using the SSE transport`);
      this.#mode = "sse";
    }
    if (this.#mode === "sse") return this.#sendSse(json, parsed.id);
    const outcome = await this.#request(this.#url, "POST", json, true);
    if (!outcome.ok) return this.#fail(parsed.id, outcome.reason);
    await this.#deliver(outcome.response, parsed.method);
  }

  /** Ends the session: streams closed, the server told (DELETE) where it gave a session id. */
  async close(): Promise<void> {
    if (this.#mode === "streamable" && this.#sessionId !== undefined) {
      await this.#request(this.#url, "DELETE", undefined, false).then((o) => (o.ok ? o.response.body?.cancel() : undefined)).catch(() => {});
    }
    this.#abort.abort();
  }

  /** One request with the token; 401: one refresh and one retry; 403 insufficient_scope: one re-authorization. */
  async #request(url: URL, method: string, body: string | undefined, expectEvents: boolean): Promise<Outcome> {
    let stepped = false;
    let refreshed = false;
    for (;;) {
      const token = await this.#tokens.get();
      const response = await mcpFetch(url, { method, headers: this.#headers(token, body !== undefined, expectEvents), ...(body === undefined ? {} : { body }), signal: this.#abort.signal }, STREAM_TIMEOUT_MS);
      this.#hooks.injected?.(url.hostname, method, response.status);
      if (response.ok) return { ok: true, response };
      const challenge = parseBearerChallenge(response.headers.get("www-authenticate"));
      await response.body?.cancel().catch(() => {});
      if (isInsufficientScope(response.status, challenge)) {
        await this.#tokens.stepUp(challenge?.scope ?? [], url.hostname, method, response.status);
        if (!stepped && (await this.#hooks.reauthorize(challenge?.scope ?? []))) {
          stepped = true;
          continue;
        }
        return { ok: false, status: response.status, reason: `the server needs more scope (${(challenge?.scope ?? []).join(" ") || "unnamed"}): run authsome login ${this.#url.href}` };
      }
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        await this.#tokens.invalidate(token);
        continue;
      }
      return { ok: false, status: response.status, reason: _reason(response.status, challenge) };
    }
  }

  #headers(token: string, hasBody: boolean, expectEvents: boolean): Record<string, string> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: expectEvents ? "application/json, text/event-stream" : "application/json" };
    if (hasBody) headers["content-type"] = "application/json";
    if (this.#mode !== "sse" && this.#sessionId !== undefined) headers["mcp-session-id"] = this.#sessionId;
    if (this.#protocolVersion !== undefined) headers["mcp-protocol-version"] = this.#protocolVersion;
    return headers;
  }

  /** Relays a POST's answer: JSON, or an event stream event by event; then opens the GET stream once. */
  async #deliver(response: Response, method: string | undefined): Promise<void> {
    this.#sessionId = response.headers.get("mcp-session-id") ?? this.#sessionId;
    const type = response.headers.get("content-type") ?? "";
    if (response.status === 202 || response.body === null) await response.body?.cancel();
    else if (type.includes("text/event-stream")) {
      for await (const event of readEvents(response.body)) if (event.event === "message") this.#emit(event.data, method);
    } else {
      const text = await response.text();
      if (text.trim() !== "") this.#emit(text, method);
    }
  }

  /**
   * Streamable HTTP's GET stream for server-initiated messages (a server without one answers
   * 405): resolves once the stream is open (or refused); its events are relayed meanwhile.
   */
  async #openGetStream(): Promise<void> {
    const outcome = await this.#request(this.#url, "GET", undefined, true).catch(() => null);
    if (outcome === null || !outcome.ok) return;
    const body = outcome.response.body;
    if (body === null || !(outcome.response.headers.get("content-type") ?? "").includes("text/event-stream")) return void (await body?.cancel());
    void (async () => {
      for await (const event of readEvents(body)) if (event.event === "message") this.#emit(event.data, undefined);
    })().catch((error: unknown) => {
      if (!this.#abort.signal.aborted) this.#hooks.log(`authsome: the server's event stream ended (${error instanceof Error ? error.message : String(error)})`);
    });
  }

  /** The legacy SSE transport: one GET stream; its `endpoint` event names where to POST. */
  async #sendSse(json: string, id: unknown): Promise<void> {
    this.#postUrl ??= this.#openSseStream();
    let target: URL;
    try {
      target = await this.#postUrl;
    } catch (error) {
      return this.#fail(id, error instanceof Error ? error.message : String(error));
    }
    const outcome = await this.#request(target, "POST", json, false);
    if (!outcome.ok) return this.#fail(id, outcome.reason);
    await outcome.response.body?.cancel();
  }

  #openSseStream(): Promise<URL> {
    return new Promise<URL>((resolve, reject) => {
      const run = async () => {
        const outcome = await this.#request(this.#url, "GET", undefined, true);
        if (!outcome.ok || outcome.response.body === null) throw new Error(outcome.ok ? "the SSE stream had no body" : outcome.reason);
        let named = false;
        for await (const event of readEvents(outcome.response.body)) {
          if (event.event === "endpoint" && !named) {
            const target = new URL(event.data, this.#url);
            // The POST URL must stay on the server's origin: the token goes there.
            if (target.origin !== this.#url.origin) throw new Error(`the SSE endpoint ${target.origin} is not the server's origin`);
            named = true;
            resolve(target);
          } else if (event.event === "message") this.#emit(event.data, undefined);
        }
        if (!named) throw new Error("the SSE stream ended without naming its endpoint");
      };
      run().catch((error: unknown) => {
        reject(error instanceof Error ? error : new Error(String(error)));
        if (!this.#abort.signal.aborted) this.#hooks.log(`authsome: the SSE stream ended (${error instanceof Error ? error.message : String(error)})`);
      });
    });
  }

  #emit(json: string, method: string | undefined): void {
    if (method === "initialize") {
      const version = _protocolVersion(json);
      if (version !== undefined) this.#protocolVersion = version;
    }
    this.#hooks.message(json);
  }

  #fail(id: unknown, reason: string): void {
    this.#hooks.log(`authsome: ${reason}`);
    if (id === undefined || id === null) return;
    this.#hooks.message(JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32001, message: `authsome: ${reason}` } }));
  }
}

function _peek(json: string): { method?: string; id?: unknown } {
  try {
    const value: unknown = JSON.parse(json);
    if (typeof value !== "object" || value === null) return {};
    const record = value as Record<string, unknown>;
    return { ...(typeof record["method"] === "string" ? { method: record["method"] } : {}), ...("id" in record ? { id: record["id"] } : {}) };
  } catch {
    return {};
  }
}

function _protocolVersion(json: string): string | undefined {
  try {
    const value = JSON.parse(json) as { result?: { protocolVersion?: unknown } };
    return typeof value.result?.protocolVersion === "string" ? value.result.protocolVersion : undefined;
  } catch {
    return undefined;
  }
}

function _reason(status: number, challenge: BearerChallenge | null): string {
  if (status === 401) return `the server refused the token after a refresh (${challenge?.error ?? "401"}): run authsome login again`;
  return `the server answered HTTP ${status}`;
}
