/**
 * How the dashboard answers: the security headers on every response, HTML (gzipped when large
 * and the browser accepts it: a page of 1,000 connections is mostly repeated markup), and
 * server-sent event streams that the server can end all at once when it closes (an open stream
 * would otherwise hold the listener's shutdown forever).
 */

/**
 * Nothing but same-origin script and style, no inline script or handler, no framing, forms only
 * to this origin, no Referer to another origin (a one-time link must not leak), nothing cached, and no other origin
 * may embed or read a response (CORP, COOP).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  // same-origin, not no-referrer: under no-referrer Chrome sends `Origin: null` on the page's own
  // form posts, which the guard (rightly) refuses. Another origin still gets no Referer.
  "referrer-policy": "same-origin",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-store",
};

/** Sets the security headers on a response the dashboard made. */
export function secure(response: Response): Response {
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.headers.set(name, value);
  return response;
}

const GZIP_FROM = 16 * 1024;

/** An HTML answer, gzipped when it is large and `acceptEncoding` allows gzip. */
export function htmlResponse(body: string, acceptEncoding: string | undefined, status = 200): Response {
  const headers: Record<string, string> = { "content-type": "text/html; charset=utf-8", vary: "accept-encoding" };
  if (body.length < GZIP_FROM || !/\bgzip\b/i.test(acceptEncoding ?? "")) return new Response(body, { status, headers });
  const stream = new Blob([body]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Response(stream, { status, headers: { ...headers, "content-encoding": "gzip" } });
}

/** Sends one event to a page: a name and a JSON value. */
export type SendEvent = (event: string, data: unknown) => void;

/** The open event streams, so a closing server can end them. */
export interface EventStreams {
  /** A `text/event-stream` response; `subscribe` starts the feed and returns its stop. */
  open(signal: AbortSignal | undefined, subscribe: (send: SendEvent, end: () => void) => () => void): Response;
  /** Ends every open stream. */
  closeAll(): void;
}

/** A comment line every 15 s keeps idle streams from being dropped by the browser or a proxy. */
const HEARTBEAT_MS = 15_000;

/** Creates the registry of open streams. */
export function createEventStreams(): EventStreams {
  const open = new Set<() => void>();
  const encoder = new TextEncoder();
  return {
    open(signal, subscribe) {
      let end = () => {};
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          let ended = false;
          const write = (text: string) => {
            if (!ended) controller.enqueue(encoder.encode(text));
          };
          const beat = setInterval(() => write(":\n\n"), HEARTBEAT_MS);
          let stop = () => {};
          end = () => {
            if (ended) return;
            ended = true;
            clearInterval(beat);
            stop();
            open.delete(end);
            try {
              controller.close();
            } catch {
              // Already cancelled by the client.
            }
          };
          open.add(end);
          signal?.addEventListener("abort", end, { once: true });
          write(": authsome\n\n");
          const unsubscribe = subscribe((event, data) => write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`), end);
          // The feed may have ended the stream at once (a login already finished).
          if (ended) unsubscribe();
          else stop = unsubscribe;
        },
        cancel: () => end(),
      });
      return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-store" } });
    },
    closeAll() {
      for (const end of [...open]) end();
    },
  };
}
