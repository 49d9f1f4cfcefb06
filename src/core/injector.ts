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
  /** False when the rule opted out of response scrubbing (`scrub: false`); scrubbed otherwise. */
  scrub?: boolean;
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
