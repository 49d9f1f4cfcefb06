/**
 * OAuth (and any interactive) logins started from the dashboard: the same `login` operation
 * the CLI calls, run in the background with a LoginInteraction that turns every message, URL
 * and device code into a step the page shows live. Nothing here sees a token: the flow stores
 * the connection and the page learns only "logged in" or the error's one line.
 */
import { randomToken } from "../../core/crypto.ts";
import { toAuthsomeError } from "../../core/errors.ts";
import type { AuthService } from "../../core/auth-service.ts";
import type { LoginInteraction } from "../../flows/types.ts";
import { callOperation, type OperationInput } from "../routes.ts";

/** One line of a login's progress; `url` is a page the user must open (authorisation, device code, a secret form). */
export interface LoginStep {
  text: string;
  url?: string;
}

/** A login started from the page. */
export interface UiLogin {
  id: string;
  provider: string;
  connection: string;
  profile: string;
  steps: LoginStep[];
  done: { ok: boolean; text: string } | null;
  /** Hears each step and the end; returns the unsubscribe. */
  subscribe(listener: (event: { kind: "step"; step: LoginStep } | { kind: "done"; ok: boolean; text: string }) => void): () => void;
}

/** The logins the dashboard runs. */
export interface LoginTracker {
  /** Starts a login; `clientSecret` is what the page's form carried ("" = a public client, as empty stdin is for the CLI). */
  start(service: AuthService, input: OperationInput<"login">, clientSecret: string): UiLogin;
  get(id: string): UiLogin | undefined;
  /** Cancels every login still waiting (the server is closing). */
  close(): void;
}

const URL_IN_TEXT = /https?:\/\/[^\s"'<>]+/;
const KEPT = 32;

/** Creates the tracker. */
export function createLoginTracker(): LoginTracker {
  const logins = new Map<string, UiLogin>();
  const controllers = new Set<AbortController>();
  return {
    start(service, input, clientSecret) {
      const controller = new AbortController();
      controllers.add(controller);
      const listeners = new Set<Parameters<UiLogin["subscribe"]>[0]>();
      const login: UiLogin = {
        id: randomToken(12), provider: input.provider, connection: input.connection ?? "default", profile: service.context.profile, steps: [], done: null,
        subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
      };
      const step = (text: string, url?: string) => {
        const found = url ?? URL_IN_TEXT.exec(text)?.[0];
        const entry: LoginStep = found === undefined ? { text } : { text, url: found };
        login.steps.push(entry);
        for (const listener of listeners) listener({ kind: "step", step: entry });
      };
      const interaction: LoginInteraction = {
        notify: (message) => step(message),
        instruct: (message) => step(message),
        openUrl: async (url) => step("Open this page to continue the login:", url),
        // The secret came with the page's form: no second form, no terminal prompt.
        readPipedSecret: async () => clientSecret,
        browserAtHand: () => true,
        signal: controller.signal,
      };
      const finish = (ok: boolean, text: string) => {
        controllers.delete(controller);
        login.done = { ok, text };
        for (const listener of listeners) listener({ kind: "done", ok, text });
        listeners.clear();
      };
      callOperation("login", input, { service, interaction }).then(
        (view) => finish(true, `Logged in to ${view.provider} as connection "${view.connection}"${view.is_default ? " (default)" : ""}.`),
        (error: unknown) => {
          const failure = toAuthsomeError(error);
          finish(false, `${failure.message}${failure.hint === undefined ? "" : ` (${failure.hint})`}`);
        },
      );
      logins.set(login.id, login);
      for (const old of [...logins.keys()].slice(0, Math.max(0, logins.size - KEPT))) logins.delete(old);
      return login;
    },
    get: (id) => logins.get(id),
    close() {
      for (const controller of controllers) controller.abort();
    },
  };
}
