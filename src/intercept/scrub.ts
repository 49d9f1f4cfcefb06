/**
 * The interceptor's side of response scrubbing (issue 10): the Response an agent gets for an
 * injected request has every form of the secret replaced (core/scrub.ts) in its headers and, as
 * a stream, in its body (same-length markers, so `Content-Length` stays right; fetch has
 * already decoded any content coding, so the scan sees plain bytes). Its `url` is the one the
 * agent asked for, never the one with the injected query key.
 */
import type { InjectionDecision } from "../core/injector.ts";
import { QuietTimer } from "../core/quiet.ts";
import { scrubberFor, type Scrubber } from "../core/scrub.ts";

/** Statuses whose Response may not have a body (the fetch standard's null body statuses). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * What the agent sees of `response`, the answer to an injected request: scrubbed unless the
 * rule opted out, the `Location` scrubbed even then (redirects are followed from it), and
 * `url`/`redirected` as the agent's own request would have them.
 */
export function agentResponse(response: Response, injection: InjectionDecision, agentUrl: string, redirected: boolean): Response {
  const scrubber = scrubberFor(injection);
  const forLocation = scrubber ?? scrubberFor(injection, true);
  const headers = _headers(response.headers, scrubber, forLocation);
  const body = scrubber === null || response.body === null ? response.body : response.body.pipeThrough(_bodyScrubber(scrubber));
  const visible = new Response(NULL_BODY.has(response.status) ? null : body, { status: response.status, statusText: scrubber?.header("", response.statusText) ?? response.statusText, headers });
  Object.defineProperty(visible, "url", { value: agentUrl });
  Object.defineProperty(visible, "redirected", { value: redirected });
  return visible;
}

function _headers(source: Headers, scrubber: Scrubber | null, forLocation: Scrubber | null): Headers {
  const out = new Headers();
  for (const [name, value] of source) {
    if (name === "set-cookie") continue;
    const using = scrubber ?? (name === "location" || name === "content-location" ? forLocation : null);
    out.append(name, using === null ? value : using.header(name, value));
  }
  for (const cookie of source.getSetCookie()) out.append("set-cookie", scrubber === null ? cookie : scrubber.header("set-cookie", cookie));
  return out;
}

/** The body scrubbed as it streams; what is held back goes on once the upstream is quiet (core/quiet.ts). */
function _bodyScrubber(scrubber: Scrubber): TransformStream<Uint8Array, Uint8Array> {
  const stream = scrubber.stream(true);
  let sink: TransformStreamDefaultController<Uint8Array> | null = null;
  const quiet = new QuietTimer(() => {
    const held = stream.flush();
    // The reader may have cancelled in the meantime: then nothing is waiting for these bytes.
    if (held.length > 0) enqueueIfOpen(sink, held);
  });
  return new TransformStream({
    start(controller) {
      sink = controller;
    },
    transform(chunk, controller) {
      quiet.cancel();
      const out = stream.push(chunk);
      if (out.length > 0) controller.enqueue(out);
      if (stream.holding) quiet.arm();
    },
    flush(controller) {
      quiet.stop();
      const out = stream.end();
      if (out.length > 0) controller.enqueue(out);
    },
  });
}

/** Enqueues unless the stream has closed or errored since (enqueue would throw). */
export function enqueueIfOpen(controller: TransformStreamDefaultController<Uint8Array> | null, bytes: Uint8Array): void {
  try {
    controller?.enqueue(bytes);
  } catch {
    // Closed or errored: nobody reads on.
  }
}
