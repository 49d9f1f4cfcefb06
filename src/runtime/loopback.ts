/**
 * JSON requests to a local daemon over node:http. Not `fetch`: on Node 20 the first fetch loads
 * undici (30-55 ms, ~15 MB), and `authsome run` talks to its daemon before anything else, so a
 * run hosted by the daemon would be heavier than one hosting its own proxy. node:http behaves
 * the same on Deno.
 */
import http from "node:http";

/** A daemon's answer: status and parsed JSON body (undefined when not JSON). */
export interface LoopbackAnswer {
  status: number;
  body: unknown;
}

/** Bounds every answer: a daemon says a few hundred bytes; anything larger is not one. */
const MAX_ANSWER_BYTES = 1 << 20;

/**
 * Sends one request and reads the whole JSON answer: the status line and headers within
 * `timeoutMs` (connect included), then the body within `bodyTimeoutMs` more (default: the same).
 * Rejects on either timeout, on a connection error, or when the answer is too large.
 */
export function loopbackJson(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number; bodyTimeoutMs?: number }): Promise<LoopbackAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: init.method ?? "GET", headers: init.headers ?? {}, agent: false });
    const origin = new URL(url).origin;
    const expire = (ms: number, what: string) => setTimeout(() => request.destroy(new Error(`${what} from ${origin} within ${ms} ms`)), ms);
    let timer = expire(init.timeoutMs, "no answer");
    const settle = (fn: () => void) => (clearTimeout(timer), fn());
    request.on("error", (error) => settle(() => reject(error)));
    request.on("response", (response) => {
      clearTimeout(timer);
      const bodyMs = init.bodyTimeoutMs ?? init.timeoutMs;
      timer = expire(bodyMs, "no complete answer");
      const chunks: Buffer[] = [];
      let size = 0;
      response.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) return void request.destroy(new Error(`answer from ${new URL(url).origin} over ${MAX_ANSWER_BYTES} bytes`));
        chunks.push(chunk);
      });
      response.on("error", (error) => settle(() => reject(error)));
      response.on("end", () => settle(() => resolve({ status: response.statusCode ?? 0, body: _json(Buffer.concat(chunks).toString("utf8")) })));
    });
    request.end(init.body);
  });
}

function _json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
