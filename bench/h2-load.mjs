// Load for the HTTP/2 and gRPC cells of bench/proxy.mjs (issue 16): one h2 connection (direct,
// or one CONNECT tunnel through a proxy) carrying `concurrency` streams at a time, back to back;
// and a grpc-js channel making `concurrency` unary calls at a time. Warm-up discarded, then a
// fixed number timed.
import http2 from "node:http2";
import net from "node:net";
import tls from "node:tls";
import * as grpc from "@grpc/grpc-js";

/** A TLS socket offering only h2: to `address:port` directly, or through the proxy at `proxyUrl`. */
export async function h2Socket({ host, port, ca, proxyUrl, address = "127.0.0.1" }) {
  let socket;
  if (proxyUrl !== undefined) {
    const proxy = new URL(proxyUrl);
    socket = net.connect(Number(proxy.port), proxy.hostname);
    const auth = Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString("base64");
    socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
    await new Promise((resolve, reject) => {
      let head = "";
      const onData = (chunk) => {
        head += chunk.toString("latin1");
        if (!head.includes("\r\n\r\n")) return;
        socket.off("data", onData);
        socket.pause();
        if (head.startsWith("HTTP/1.1 200")) resolve();
        else reject(new Error(head));
      };
      socket.on("data", onData);
      socket.once("error", reject);
    });
  }
  const secure = tls.connect({ ...(socket === undefined ? { host: address, port } : { socket }), servername: host, ca, ALPNProtocols: ["h2"] });
  await new Promise((resolve, reject) => secure.once("secureConnect", resolve).once("error", reject));
  if (secure.alpnProtocol !== "h2") throw new Error(`ALPN gave ${secure.alpnProtocol}, not h2`);
  return secure;
}

/**
 * Runs the load on one session; returns requests/s, latency percentiles and MB/s. `window`: the
 * client's stream window (its session window 16 times that), as curl and Go raise theirs;
 * unset, node:http2's 64 KiB for both.
 */
export async function runH2Load({ socket, origin, path, headers = {}, concurrency, requests, warmup, bytes, check, window }) {
  const session = http2.connect(origin, { maxSessionMemory: 1024, createConnection: () => socket, ...(window ? { settings: { initialWindowSize: window } } : {}) });
  if (window) session.once("connect", () => session.setLocalWindowSize(window * 16));
  session.on("error", () => undefined);
  const one = (keep) =>
    new Promise((resolve, reject) => {
      const start = process.hrtime.bigint();
      const req = session.request({ ":path": path, ...headers });
      let size = 0;
      let text = "";
      let status = 0;
      req.on("response", (h) => (status = Number(h[":status"])));
      req.on("data", (chunk) => {
        size += chunk.length;
        if (keep) text += chunk;
      });
      req.on("error", reject);
      req.on("end", () => {
        if (status !== 200 || size !== bytes) return reject(new Error(`status ${status}, ${size} bytes (expected ${bytes}): ${text.slice(0, 200)}`));
        resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, text });
      });
    });
  try {
    check?.((await one(true)).text);
    return await _timed(concurrency, requests, warmup, () => one(false), bytes);
  } finally {
    session.destroy();
  }
}

/** Unary calls through a grpc-js channel (`proxyUrl`: through that proxy, from the environment as SDKs take it). */
export async function runGrpcLoad({ host, port, ca, proxyUrl, headers = {}, concurrency, requests, warmup, check }) {
  const asIs = (b) => b;
  const Echo = grpc.makeGenericClientConstructor({ Unary: { path: "/bench.Echo/Unary", requestStream: false, responseStream: false, requestSerialize: asIs, requestDeserialize: asIs, responseSerialize: asIs, responseDeserialize: asIs } }, "Echo");
  // grpc-js reads the proxy from the environment when the channel is made.
  const saved = process.env.grpc_proxy;
  if (proxyUrl !== undefined) process.env.grpc_proxy = proxyUrl;
  const options = proxyUrl === undefined ? { "grpc.enable_http_proxy": 0, "grpc.ssl_target_name_override": host, "grpc.default_authority": `${host}:${port}` } : {};
  const client = new Echo(proxyUrl === undefined ? `127.0.0.1:${port}` : `${host}:${port}`, grpc.credentials.createSsl(Buffer.from(ca)), options);
  if (saved === undefined) delete process.env.grpc_proxy;
  else process.env.grpc_proxy = saved;
  const message = Buffer.from("ping");
  const one = () =>
    new Promise((resolve, reject) => {
      const start = process.hrtime.bigint();
      const metadata = new grpc.Metadata();
      for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
      client.Unary(message, metadata, (error, answer) => (error ? reject(error) : resolve({ ms: Number(process.hrtime.bigint() - start) / 1e6, text: answer.toString() })));
    });
  try {
    check?.((await one()).text);
    return await _timed(concurrency, requests, warmup, one, 0);
  } finally {
    client.close();
  }
}

async function _timed(concurrency, requests, warmup, one, bytes) {
  await Promise.all(Array.from({ length: concurrency }, async () => {
    for (let i = 0; i < warmup; i++) await one();
  }));
  const latencies = new Float64Array(requests);
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests) {
      const slot = next++;
      latencies[slot] = (await one()).ms;
    }
  }));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort();
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  return { rps: requests / seconds, p50: at(0.5), p99: at(0.99), mbps: (requests * bytes) / seconds / 1e6 };
}
