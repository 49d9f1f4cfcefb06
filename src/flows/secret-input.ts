/**
 * Where a secret the person logging in types comes from (API keys, OAuth client secrets):
 * stdin when stdin is not a terminal; a hidden prompt at the terminal when no browser is at
 * hand (SSH, no display, `--no-browser`), since a form on this machine's 127.0.0.1 would be
 * out of the user's reach; else the one-time local form registered into core (src/register.ts).
 * Never argv.
 */
import { AuthsomeError } from "../core/errors.ts";
import { loadSecretForm } from "../core/flow-registry.ts";
import type { FlowContext, LoginInteraction } from "./types.ts";

/** What to ask for. */
export interface SecretRequest {
  /** What the secret is called, e.g. "API key", "client secret". */
  label: string;
  /** An empty answer is allowed (a public OAuth client has no secret). */
  optional?: boolean;
  /** Returns why a value is refused, or null. */
  validate(value: string): string | null;
  /** Where to get one (shown before asking). */
  keyUrl?: string;
}

/** Shows what the user must see to finish a login (`instruct`, else `notify`). */
export function showInstructions(interaction: LoginInteraction, message: string): void {
  if (interaction.instruct !== undefined) interaction.instruct(message);
  else interaction.notify(message);
}

/** Tries at a hidden prompt before the login gives up. */
export const PROMPT_TRIES = 3;

/** Asks for a secret with a hidden prompt, up to three tries, all within the login's timeout. */
export async function promptSecret(context: FlowContext, request: SecretRequest, prompt: NonNullable<LoginInteraction["prompt"]>): Promise<string> {
  const name = context.plugin.displayName ?? context.plugin.name;
  const stopAt = Date.now() + context.timeoutMs;
  if (request.keyUrl !== undefined) context.interaction.notify(`Create one at ${request.keyUrl}`);
  const question = `${name} ${request.label} for "${context.connection}" (input hidden${request.optional ? "; Enter if there is none" : ""}): `;
  for (let attempt = 1; ; attempt++) {
    const value = (await prompt(question, { hidden: true, timeoutMs: Math.max(1, stopAt - Date.now()) })).trim();
    const problem = request.validate(value);
    if (problem === null) return value;
    if (attempt >= PROMPT_TRIES) throw new AuthsomeError("usage", `${request.label} refused ${PROMPT_TRIES} times: ${problem}`, { hint: "run the login again" });
    context.interaction.notify(`${problem}; try again (${PROMPT_TRIES - attempt} left)`);
  }
}

/** Collects a secret from stdin, the terminal or the local form (see the module comment). */
export async function collectSecret(context: FlowContext, request: SecretRequest): Promise<string> {
  const { interaction } = context;
  const piped = await interaction.readPipedSecret();
  if (piped !== undefined) {
    const value = piped.trim();
    const problem = request.validate(value);
    if (problem !== null) throw new AuthsomeError("usage", `${request.label} read from stdin refused: ${problem}`, { hint: "pipe the secret on stdin, e.g. `authsome login ... < secret.txt`" });
    return value;
  }
  if (interaction.prompt !== undefined && interaction.browserAtHand?.() === false) return promptSecret(context, request, interaction.prompt);
  const collectSecretWithForm = await loadSecretForm();
  if (collectSecretWithForm === undefined) {
    throw new AuthsomeError("usage", `no way to ask for the ${request.label} here: no terminal and no local form`, { hint: "pipe it on stdin, e.g. `authsome login ... < secret.txt`" });
  }
  return collectSecretWithForm({
    plugin: context.plugin,
    connection: context.connection,
    interaction,
    timeoutMs: context.timeoutMs,
    label: request.label,
    ...(request.optional === undefined ? {} : { optional: request.optional }),
    validate: request.validate,
  });
}
