/**
 * Login for `authsome login aws` (any `authType: "aws_sigv4"` provider): an access key id, a
 * secret access key and an optional session token. Piped on stdin as JSON (our field names,
 * or the `AccessKeyId`/`SecretAccessKey`/`SessionToken` of `aws sts get-session-token` and
 * `aws configure export-credentials`, top level or under `Credentials`) or as lines (id,
 * secret, optional token); at a terminal, one prompt per field. Never argv.
 */
import * as v from "valibot";
import { AuthsomeError } from "../core/errors.ts";
import { checkApiKey } from "../core/api-key.ts";
import type { FlowContext, FlowResult } from "./types.ts";

/** The three fields, as stored. */
export interface AwsKeys {
  access_key_id: string;
  secret_access_key: string;
  session_token?: string;
}

const Text = v.pipe(v.string(), v.trim(), v.nonEmpty());
const OurSchema = v.object({ access_key_id: Text, secret_access_key: Text, session_token: v.optional(v.pipe(v.string(), v.trim())) });
const AwsSchema = v.object({ AccessKeyId: Text, SecretAccessKey: Text, SessionToken: v.optional(v.pipe(v.string(), v.trim())) });
const SECRET_KEY = /^[A-Za-z0-9/+=]{16,128}$/;

/** Runs the login: stdin when piped, else prompts at the terminal. */
export async function runAwsKeysFlow(context: FlowContext): Promise<FlowResult> {
  const piped = await context.interaction.readPipedSecret();
  const keys = piped !== undefined ? parseAwsKeys(piped) : await _prompted(context);
  const problem = checkAwsKeys(context, keys);
  if (problem !== null) throw new AuthsomeError("usage", problem, { hint: "run the login again with the key id, secret key and (for temporary keys) session token" });
  return { secrets: { access_key_id: keys.access_key_id, secret_access_key: keys.secret_access_key, ...(keys.session_token ? { session_token: keys.session_token } : {}) } };
}

/** Reads the keys from piped text: JSON (see the module comment) or 2-3 lines. Never echoes a value. */
export function parseAwsKeys(text: string): AwsKeys {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) {
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      throw new AuthsomeError("usage", "the AWS keys read from stdin are not valid JSON");
    }
    const inner = typeof json === "object" && json !== null && "Credentials" in json ? (json as { Credentials: unknown }).Credentials : json;
    const ours = v.safeParse(OurSchema, inner);
    if (ours.success) return _keys(ours.output.access_key_id, ours.output.secret_access_key, ours.output.session_token);
    const aws = v.safeParse(AwsSchema, inner);
    if (aws.success) return _keys(aws.output.AccessKeyId, aws.output.SecretAccessKey, aws.output.SessionToken);
    throw new AuthsomeError("usage", "the JSON read from stdin needs access_key_id and secret_access_key (or AccessKeyId and SecretAccessKey), and may have session_token");
  }
  const lines = trimmed.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
  if (lines.length < 2 || lines.length > 3) {
    throw new AuthsomeError("usage", `expected 2 or 3 lines on stdin (access key id, secret access key, optional session token), got ${lines.length}`);
  }
  return _keys(lines[0] ?? "", lines[1] ?? "", lines[2]);
}

function _keys(id: string, secret: string, token: string | undefined): AwsKeys {
  return { access_key_id: id, secret_access_key: secret, ...(token !== undefined && token !== "" ? { session_token: token } : {}) };
}

/** Why the keys are refused (naming the field, never a value), or null. */
export function checkAwsKeys(context: Pick<FlowContext, "plugin">, keys: AwsKeys): string | null {
  const id = checkApiKey(context.plugin, keys.access_key_id);
  if (id !== null) return `access key id: ${id}`;
  if (!SECRET_KEY.test(keys.secret_access_key)) return "secret access key: expected 16-128 letters, digits, '/', '+' or '='";
  if (keys.session_token !== undefined && /\s/.test(keys.session_token)) return "session token: contains white space";
  return null;
}

async function _prompted(context: FlowContext): Promise<AwsKeys> {
  const prompt = context.interaction.prompt;
  if (prompt === undefined) {
    throw new AuthsomeError("usage", "AWS keys are read at a terminal or from stdin", { hint: "pipe them: printf '%s\\n%s\\n' \"$ID\" \"$SECRET\" | authsome login aws" });
  }
  const stopAt = Date.now() + context.timeoutMs;
  const ask = async (label: string, hidden: boolean): Promise<string> =>
    (await prompt(`${context.plugin.displayName ?? context.plugin.name} ${label} for "${context.connection}"${hidden ? " (input hidden)" : ""}: `, { hidden, timeoutMs: Math.max(1, stopAt - Date.now()) })).trim();
  const id = await ask("access key id", false);
  const secret = await ask("secret access key", true);
  const token = await ask("session token (Enter if none)", true);
  return _keys(id, secret, token);
}
