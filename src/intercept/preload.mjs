// Preloaded into Node children of `authsome run` (NODE_OPTIONS=--import ...). Node 20's fetch
// and its http/https modules ignore HTTP(S)_PROXY; this routes both through the authsome proxy
// named in the environment. It holds no secret: the proxy URL carries only the per-run token.
import http from "node:http";
import https from "node:https";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
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

if (proxyText) {
  patch(http, false);
  patch(https, true);
  // ES modules' named imports of node:http(s) see the patched Agent as well.
  syncBuiltinESMExports();
}
