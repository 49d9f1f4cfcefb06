// A name-constrained CA (issue 14 part 6): the nameConstraints extension as @peculiar/x509 reads
// it, the CA refusing to sign for an unbrokered host, a TLS client (node:tls and curl) refusing a
// leaf outside the constraints that was signed with the CA's own key, and the CA remade when the
// brokered host set changes.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, createServer } from "node:tls";
import { after, before, describe, it } from "node:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { AuthsomeError } from "../../src/core/errors.ts";
import { createCertificateAuthority, createMemoryCaStore, type CaStore, type CertificateAuthority } from "../../src/proxy/ca.ts";
import { type PermittedNames, permittedNames, regexSuffix } from "../../src/proxy/ca-hosts.ts";
import * as der from "../../src/proxy/der.ts";
import * as cert from "../../src/proxy/x509.ts";

const NAMES: PermittedNames = { dns: ["acme.example"], ips: [] };
const hasCurl = spawnSync("curl", ["--version"]).status === 0;

/** A leaf for `host` signed directly with the CA's private key, as a thief of the key would. */
async function forgeLeaf(store: CaStore, host: string): Promise<{ certPem: string; keyPem: string }> {
  const stored = await store.load();
  if (stored === null) throw new Error("no CA stored");
  const caKey = await crypto.subtle.importKey("pkcs8", new Uint8Array(stored.keyPkcs8), { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const caCert = cert.parseCertificate(cert.fromPem(stored.certPem, "CERTIFICATE"));
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const der_ = await cert.signCertificate({
    serial: Uint8Array.of(0x41, 2, 3, 4), issuer: caCert.subject, subject: cert.distinguishedName(host, "forged"),
    notBefore: new Date(Date.now() - 3_600_000), notAfter: new Date(Date.now() + 86_400_000), spki,
    extensions: [cert.basicConstraints(false), cert.keyUsage(false), cert.SERVER_AUTH, cert.authorityKeyIdentifier(caCert.subjectKeyId ?? new Uint8Array(20)), cert.subjectAltName(host)],
  }, caKey);
  return { certPem: cert.toPem(der_, "CERTIFICATE"), keyPem: cert.toPem(new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey)), "PRIVATE KEY") };
}

/** A TLS server presenting `leaf`; answers "ok" to anything. */
async function serve(leaf: { certPem: string; keyPem: string }): Promise<{ port: number; close(): Promise<void> }> {
  const server = createServer({ cert: leaf.certPem, key: leaf.keyPem }, (socket) => socket.end("HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok"));
  server.on("tlsClientError", () => {});
  const sockets = new Set<import("node:net").Socket>();
  server.on("connection", (socket: import("node:net").Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      const closed = once(server, "close");
      server.close();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

/** Connects with node:tls trusting only `caPem`; the error's text, or "ok". */
function handshake(port: number, host: string, caPem: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1", servername: host, ca: caPem }, () => {
      socket.end();
      resolve("ok");
    });
    socket.setTimeout(5000, () => socket.destroy(new Error("timed out")));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(`${error.code ?? ""} ${error.message}`));
  });
}

/** curl trusting only the CA file; its exit code and stderr. */
async function curl(port: number, host: string, caFile: string): Promise<{ code: number | null; stderr: string }> {
  const child = spawn("curl", ["-sS", "--max-time", "5", "--noproxy", "*", "--cacert", caFile, "--resolve", `${host}:${port}:127.0.0.1`, `https://${host}:${port}/`], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const [code] = await once(child, "close");
  return { code: code as number | null, stderr };
}

describe("name-constrained CA", () => {
  let store: CaStore;
  let ca: CertificateAuthority;
  let dir: string;
  before(async () => {
    store = createMemoryCaStore();
    ca = await createCertificateAuthority(store, { permitted: NAMES });
    dir = await mkdtemp(join(tmpdir(), "authsome-ca-constraints-"));
    await writeFile(join(dir, "ca.pem"), ca.caCertPem());
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it("emits a critical nameConstraints extension: the permitted DNS subtrees, every IP address excluded", () => {
    const extension = new x509.X509Certificate(ca.caCertPem()).getExtension("2.5.29.30");
    assert.ok(extension !== null, "no nameConstraints extension");
    assert.equal(extension.critical, true);
    const [permitted, excluded] = der.children(der.readTlv(new Uint8Array(extension.value)).contents);
    const names = (t: der.Tlv | undefined) => der.children(t?.contents ?? new Uint8Array()).map((subtree) => new x509.GeneralName(der.readTlv(subtree.contents).raw).toJSON());
    assert.equal(permitted?.tag, 0xa0);
    assert.deepEqual(names(permitted), [{ type: "dns", value: "acme.example" }]);
    assert.equal(excluded?.tag, 0xa1);
    assert.deepEqual(names(excluded).map((n) => n.type), ["ip", "ip"]);
  });

  it("signs for brokered hosts and refuses any other host with host_not_brokered", async () => {
    assert.equal(ca.covers("api.acme.example"), true);
    assert.equal(ca.covers("acme.example"), true);
    assert.equal(ca.covers("evil.example"), false);
    assert.equal(ca.covers("notacme.example"), false, "a subtree matches whole labels");
    assert.equal(ca.covers("127.0.0.1"), false);
    assert.ok((await ca.leafFor("api.acme.example")).certPem.includes("BEGIN CERTIFICATE"));
    for (const host of ["evil.example", "notacme.example", "127.0.0.1"]) {
      await assert.rejects(ca.leafFor(host), (error: unknown) => error instanceof AuthsomeError && error.code === "host_not_brokered" && error.message.includes(host));
    }
  });

  it("node:tls accepts the CA's leaf for a brokered host and refuses a leaf outside the constraints signed with the CA's key", async () => {
    const good = await serve(await ca.leafFor("api.acme.example"));
    // The control: forged the same way, but inside the constraints, so only the name differs.
    const inside = await serve(await forgeLeaf(store, "forged.acme.example"));
    const forged = await serve(await forgeLeaf(store, "evil.example"));
    try {
      assert.equal(await handshake(good.port, "api.acme.example", ca.caCertPem()), "ok");
      assert.equal(await handshake(inside.port, "forged.acme.example", ca.caCertPem()), "ok");
      const refused = await handshake(forged.port, "evil.example", ca.caCertPem());
      assert.notEqual(refused, "ok", "a leaf outside the constraints was accepted");
      // Node (OpenSSL) names the reason; Deno's node:tls (rustls) says only that the leaf does not verify.
      if (!("Deno" in globalThis)) assert.match(refused, /permitted subtree violation/);
    } finally {
      await Promise.all([good.close(), inside.close(), forged.close()]);
    }
  });

  it("curl accepts the brokered leaf and refuses the forged one (permitted subtree violation)", { skip: hasCurl ? undefined : "curl not installed" }, async () => {
    const good = await serve(await ca.leafFor("api.acme.example"));
    const forged = await serve(await forgeLeaf(store, "evil.example"));
    try {
      const ok = await curl(good.port, "api.acme.example", join(dir, "ca.pem"));
      assert.equal(ok.code, 0, ok.stderr);
      const refused = await curl(forged.port, "evil.example", join(dir, "ca.pem"));
      assert.equal(refused.code, 60, refused.stderr);
      assert.match(refused.stderr, /permitted subtree violation/);
    } finally {
      await Promise.all([good.close(), forged.close()]);
    }
  });

  it("is remade when the brokered host set changes, and kept while it does not", async () => {
    const same = await createCertificateAuthority(store, { permitted: NAMES });
    assert.equal(same.caCertPem(), ca.caCertPem());
    const wider = await createCertificateAuthority(store, { permitted: { dns: ["acme.example", "other.example"], ips: [] } });
    assert.notEqual(wider.caCertPem(), ca.caCertPem());
    assert.equal(wider.covers("api.other.example"), true);
  });
});

describe("brokered names from plugins", () => {
  it("exact, wildcard and regex rules give subtrees; a nested subtree is dropped; IP rules give one address", () => {
    const plugin = (name: string, hosts: string[]) => ({ name, authType: "api_key", inject: hosts.map((host) => ({ host })) }) as never;
    const names = permittedNames([
      plugin("a", ["api.acme.example", "*.acme.example", "http://10.1.2.3:8080"]),
      plugin("b", ["regex:(eu|us)\\.cdn\\.bravo\\.example", "regex:(.*\\.)?forge\\.example"]),
    ]);
    assert.deepEqual(names, { dns: ["acme.example", "cdn.bravo.example", "forge.example"], ips: ["10.1.2.3"] });
    assert.equal(regexSuffix("[a-z]+google\\.com"), undefined, "not at a label boundary");
    assert.equal(regexSuffix("[a-z]+\\.com"), undefined, "a public suffix");
  });
});
