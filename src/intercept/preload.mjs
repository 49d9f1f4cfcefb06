// Preloaded into Node children of `authsome run` (NODE_OPTIONS=--import ...). Node 20's fetch
// and its http/https/http2 modules ignore HTTP(S)_PROXY; this routes them through the authsome
// proxy named in the environment. It holds no secret: the proxy URL carries only the per-run token.
import http from "node:http";
import http2 from "node:http2";
import https from "node:https";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import { Duplex } from "node:stream";
import tls from "node:tls";
import { EnvHttpProxyAgent, setGlobalDispatcher } from "undici";

setGlobalDispatcher(new EnvHttpProxyAgent());

const proxyText = process.env.HTTPS_PROXY || process.env.https_proxy || process.env.HTTP_PROXY || process.env.http_proxy;
const noProxy = (process.env.NO_PROXY || process.env.no_proxy || "").split(",").map((h) => h.trim().toLowerCase()).filter(Boolean);

function bypass(host) {
  const h = String(host).toLowerCase().replace(/^\[|\]$/g, "");
  return noProxy.some((entry) => h === entry || h.endsWith(`.${entry.replace(/^\./, "")}`));
}

// Opens a CONNECT tunnel through the proxy; calls back with the raw socket.
function tunnel(proxy, host, port, callback) {
  const socket = net.connect(Number(proxy.port), proxy.hostname.replace(/^\[|\]$/g, ""));
  const auth = Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString("base64");
  let head = Buffer.alloc(0);
  const onData = (chunk) => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf("\r\n\r\n");
    if (end < 0) return;
    socket.off("data", onData);
    const status = Number(head.subarray(0, end).toString("latin1").split(" ")[1]);
    if (status !== 200) {
      socket.destroy();
      return callback(new Error(`authsome proxy refused CONNECT ${host}:${port} (${status})`));
    }
    if (head.length > end + 4) socket.unshift(head.subarray(end + 4));
    callback(null, socket);
  };
  socket.on("data", onData);
  socket.once("error", (error) => callback(error));
  socket.write(`CONNECT ${host}:${port} HTTP/1.1\r\nHost: ${host}:${port}\r\nProxy-Authorization: Basic ${auth}\r\n\r\n`);
}

function patch(module, secure) {
  const Base = module.Agent;
  class TunnelAgent extends Base {
    createConnection(options, callback) {
      const host = options.host || options.hostname || "localhost";
      const port = options.port || (secure ? 443 : 80);
      if (!proxyText || bypass(host)) return super.createConnection(options, callback);
      tunnel(new URL(proxyText), host, port, (error, socket) => {
        if (error) return callback(error);
        if (!secure) return callback(null, socket);
        const secureSocket = tls.connect({ ...options, socket, servername: options.servername || (net.isIP(host) ? undefined : host) });
        secureSocket.once("secureConnect", () => callback(null, secureSocket));
        secureSocket.once("error", (e) => callback(e));
      });
      return undefined;
    }
  }
  module.globalAgent = new TunnelAgent({ keepAlive: true });
  // Clients that make their own agent (the AWS SDK's `new https.Agent({ keepAlive })`) too.
  module.Agent = TunnelAgent;
}

/**
 * A socket for node:http2 that exists at once (`createConnection` must return one) and carries
 * bytes once the tunnel and its TLS are up: what node:http2 writes first (its preface) waits.
 */
class TunnelledSocket extends Duplex {
  #target = null;
  #queue = [];

  attach(target) {
    this.#target = target;
    target.on("data", (chunk) => this.push(chunk) || target.pause());
    target.once("end", () => this.push(null));
    target.once("error", (error) => this.destroy(error));
    target.once("close", () => this.destroy());
    for (const [chunk, done] of this.#queue) target.write(chunk, done);
    this.#queue = [];
  }

  _read() {
    this.#target?.resume();
  }

  _write(chunk, _encoding, done) {
    if (this.#target === null) this.#queue.push([chunk, done]);
    else this.#target.write(chunk, done);
  }

  _final(done) {
    if (this.#target === null) return done();
    this.#target.end(done);
  }

  _destroy(error, done) {
    this.#target?.destroy();
    done(error);
  }
}

/**
 * http2.connect (the AWS SDK's streaming handler, gRPC stacks on node:http2) through a CONNECT
 * tunnel, TLS offering h2 on top, with the caller's TLS options. A caller's own
 * `createConnection` is left alone.
 */
function patchHttp2() {
  const connect = http2.connect;
  http2.connect = function (authority, options, listener) {
    if (typeof options === "function") [options, listener] = [undefined, options];
    const url = typeof authority === "string" ? new URL(authority) : authority;
    const secure = url.protocol === "https:";
    const host = url.hostname.replace(/^\[|\]$/g, "");
    if (!proxyText || bypass(host) || typeof options?.createConnection === "function" || (url.protocol !== "http:" && !secure)) return connect.call(this, authority, options, listener);
    const port = Number(url.port) || (secure ? 443 : 80);
    const createConnection = () => {
      const socket = new TunnelledSocket();
      tunnel(new URL(proxyText), host, port, (error, raw) => {
        if (error) return socket.destroy(error);
        if (!secure) return socket.attach(raw);
        const servername = options?.servername || (net.isIP(host) ? undefined : host);
        const secureSocket = tls.connect({ ...options, socket: raw, ALPNProtocols: ["h2"], ...(servername === undefined ? {} : { servername }) });
        secureSocket.once("secureConnect", () => {
          if (secureSocket.alpnProtocol === "h2") return socket.attach(secureSocket);
          secureSocket.destroy();
          socket.destroy(new Error(`${host}:${port} through the authsome proxy does not speak HTTP/2 (ALPN ${secureSocket.alpnProtocol || "none"})`));
        });
        secureSocket.once("error", (e) => socket.destroy(e));
      });
      return socket;
    };
    return connect.call(this, authority, { ...options, createConnection }, listener);
  };
}

if (proxyText) {
  patch(http, false);
  patch(https, true);
  patchHttp2();
  // ES modules' named imports of node:http(s) and node:http2 see the patched ones as well.
  syncBuiltinESMExports();
}
