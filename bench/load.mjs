// The one load generator every target of bench/proxy.mjs gets: `concurrency` workers, each
// sending requests back to back on its own keep-alive connection through one undici
// dispatcher, a warm-up discarded, then a fixed number of timed requests.

/**
 * @param {object} o
 * @param {import("undici").Dispatcher} o.dispatcher
 * @param {string} o.origin  e.g. https://api.bench.test:1234
 * @param {string} o.path
 * @param {Record<string,string>} [o.headers]
 * @param {number} o.concurrency
 * @param {number} o.requests  timed requests (all workers together)
 * @param {number} o.warmup    untimed requests per worker, first
 * @param {number} o.bytes     expected body length (checked on every response)
 * @param {(body: string) => void} [o.check]  called on the first small body
 * @param {() => void} [o.onTimed]  called when the timed phase starts (CPU accounting)
 * @returns {Promise<{rps: number, p50: number, p99: number, mbps: number, errors: number}>}
 */
export async function runLoad(o) {
  const one = async (keep) => {
    const start = process.hrtime.bigint();
    const { statusCode, body } = await o.dispatcher.request({ origin: o.origin, path: o.path, method: "GET", headers: o.headers });
    let bytes = 0;
    let text = "";
    for await (const chunk of body) {
      bytes += chunk.length;
      if (keep) text += chunk;
    }
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (statusCode !== 200 || bytes !== o.bytes) throw new Error(`status ${statusCode}, ${bytes} bytes (expected ${o.bytes}) from ${o.origin}${o.path}: ${text.slice(0, 200)}`);
    return { ms, text };
  };
  // Warm-up: every worker opens its connection (TLS, CONNECT, leaf) and runs a few requests.
  const first = await one(o.check !== undefined);
  o.check?.(first.text);
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    for (let i = 0; i < o.warmup; i++) await one(false);
  }));
  const latencies = new Float64Array(o.requests);
  let next = 0;
  o.onTimed?.();
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    while (next < o.requests) {
      const slot = next++;
      latencies[slot] = (await one(false)).ms;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort();
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: o.requests / seconds, p50: at(0.5), p99: at(0.99), mbps: (o.requests * o.bytes) / seconds / 1e6, errors: 0 };
}
