/**
 * The one contract between the credential store and the things that put credentials on
 * requests (the proxy in src/proxy/, the fetch interceptor in src/intercept/). There is exactly
 * one implementation in the core (src/core/inject.ts); both callers go through it.
 */

/** What to change on one outbound request. */
export interface InjectionDecision {
  provider: string;
  connection: string;
  /** Headers to set, replacing any value the agent sent (names lower-case). */
  headers: Record<string, string>;
  /** Query parameters to set, replacing any the agent sent. */
  query: Record<string, string>;
  /**
   * For an `in: "path"` rule: the segment `<prefix><the run's placeholder>` becomes
   * `<prefix><value>` (egress.ts); without such a segment nothing is injected.
   */
  path?: { readonly prefix: string; readonly value: string };
  /** False when the rule opted out of response scrubbing (`scrub: false`); scrubbed otherwise. */
  scrub?: boolean;
  /**
   * Set for a provider whose requests are signed (SigV4, a plugin's sign hook): it computes the
   * headers per request; `headers` and `query` above are then empty.
   */
  sign?: RequestSigner;
  /** Secret values behind a signer (never on the wire), for response scrubbing. */
  secrets?: readonly string[];
}

/** One request as a {@link RequestSigner} signs it. */
export interface SignInput {
  method: string;
  /** The URL that will be sent. */
  url: URL;
  /** The headers that will be sent (flat; `Host` first in wire form), the signer's dropped. */
  headers: readonly string[];
  /** The whole body when the plan was `read`, else null. */
  body: Uint8Array | null;
}

/** What a signature adds: headers and query parameters, replacing the agent's. */
export interface SignedParts {
  headers: Record<string, string>;
  query: Record<string, string>;
}

/** What the signer is told before the body is read. */
export interface SignPlanInput {
  method: string;
  headers: readonly string[];
  body: { present: boolean; length: number | null; readsUnknownLength: boolean };
}

/**
 * Signs requests for one connection. `plan` says how the body takes part: `stream` (no body,
 * or a body the signature does not cover: sign now, stream it), `read` (the transport reads it
 * whole first), or a refusal (status and reason for the agent).
 */
export interface RequestSigner {
  /** Lower-case header names whose agent values never leave (the signer sets its own). */
  readonly drops: ReadonlySet<string>;
  plan(request: SignPlanInput): "stream" | "read" | { status: number; reason: string };
  sign(request: SignInput): Promise<SignedParts>;
}

/** Options for one decision. */
export interface InjectionOptions {
  /** Connection name chosen by the agent (proxy username or `X-Authsome-Connection`). */
  connection?: string;
  /** Per-run provider -> connection choices (`run --connection p=NAME`). */
  connections?: Record<string, string>;
}

/** Decides, from a request URL, whether and what to inject. Reads connections live. */
export interface Injector {
  /** True when some connected provider's rules match this host and port (so CONNECT is intercepted). */
  shouldIntercept(host: string, port: number): Promise<boolean>;
  /** The injection for a full request URL (`https://host:port/path?query`), or null for none. */
  decide(url: URL, options?: InjectionOptions): Promise<InjectionDecision | null>;
  /** Releases what the injector holds (a store watcher). */
  close?(): void;
}
