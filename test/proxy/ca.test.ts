// The local CA: created once and kept by its store, leaves that real TLS verification accepts,
// and a leaf cache that is bounded, shared by concurrent callers and renewed before expiry.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { AuthsomeError } from "../../src/core/errors.ts";
import { createCertificateAuthority, createMemoryCaStore, type CaStore } from "../../src/proxy/ca.ts";

const DAY = 86_400_000;

/** A store that counts saves. */
function countingStore(): CaStore & { saves: number } {
  const inner = createMemoryCaStore();
  const store = {
    saves: 0,
    load: () => inner.load(),
    save: (ca: { certPem: string; keyPkcs8: Uint8Array }) => {
      store.saves += 1;
      return inner.save(ca);
    },
  };
  return store;
}

describe("certificate authority", () => {
  it("creates a P-256 CA once and reloads it from the store", async () => {
    const store = countingStore();
    const first = await createCertificateAuthority(store);
    const second = await createCertificateAuthority(store);
    assert.equal(store.saves, 1);
    assert.equal(second.caCertPem(), first.caCertPem());
    const cert = new X509Certificate(first.caCertPem());
    assert.ok(cert.ca);
    assert.match(cert.subject, /^CN=authsome local CA \([0-9a-f]{8}\)/);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
    assert.ok(cert.checkIssued(cert), "self-signed");
    const years = (Date.parse(cert.validTo) - Date.now()) / (365 * DAY);
    assert.ok(years > 9.9 && years < 10.1, `valid ~10 years, got ${years}`);
    // A leaf from the reloaded CA chains to the stored certificate.
    const leaf = new X509Certificate((await second.leafFor("reloaded.example.test")).certPem);
    assert.ok(leaf.checkIssued(cert) && leaf.verify(cert.publicKey));
  });

  it("mints leaves for DNS names and IP addresses, valid ~30 days and backdated", async () => {
    const ca = await createCertificateAuthority(createMemoryCaStore());
    const caCert = new X509Certificate(ca.caCertPem());
    const dnsPem = (await ca.leafFor("API.Example.TEST.")).certPem;
    const dns = new X509Certificate(dnsPem);
    assert.equal(dns.subjectAltName, "DNS:api.example.test");
    assert.equal(dns.checkHost("api.example.test"), "api.example.test");
    assert.ok(!dns.ca);
    assert.ok(dns.verify(caCert.publicKey));
    assert.ok(Date.parse(dns.validFrom) < Date.now() - 30 * 60_000, "backdated");
    const days = (Date.parse(dns.validTo) - Date.now()) / DAY;
    assert.ok(days > 29.9 && days <= 30, `valid ~30 days, got ${days}`);
    const eku = new x509.X509Certificate(dnsPem).getExtension(x509.ExtendedKeyUsageExtension);
    assert.deepEqual([...(eku?.usages ?? [])], [x509.ExtendedKeyUsage.serverAuth]);
    const ip4 = new X509Certificate((await ca.leafFor("127.0.0.1")).certPem);
    assert.equal(ip4.checkIP("127.0.0.1"), "127.0.0.1");
    const ip6 = new X509Certificate((await ca.leafFor("[::1]")).certPem);
    assert.equal(ip6.checkIP("::1"), "::1");
    const long = `${"a".repeat(63)}.${"b".repeat(63)}.example.test`;
    assert.equal(new X509Certificate((await ca.leafFor(long)).certPem).checkHost(long), long);
  });

  it("writes the extensions TLS clients check, and links each leaf to the CA's key id", async () => {
    const ca = await createCertificateAuthority(createMemoryCaStore());
    const caCert = new x509.X509Certificate(ca.caCertPem());
    const leaf = new x509.X509Certificate((await ca.leafFor("ext.example.test")).certPem);
    const caBasic = caCert.getExtension(x509.BasicConstraintsExtension);
    assert.ok(caBasic?.ca === true && caBasic.pathLength === 0 && caBasic.critical);
    assert.equal(caCert.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    assert.ok(leaf.getExtension(x509.BasicConstraintsExtension)?.ca === false);
    assert.equal(leaf.getExtension(x509.KeyUsagesExtension)?.usages, x509.KeyUsageFlags.digitalSignature);
    const ski = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    assert.ok(ski !== undefined && ski.length === 40);
    assert.equal(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, ski);
    assert.equal(leaf.issuer, caCert.subject);
    assert.ok(await leaf.verify({ publicKey: await caCert.publicKey.export() }));
  });

  it("keeps using a stored CA made by another X.509 implementation (its key id, its name)", async () => {
    const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const foreign = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: "01",
      name: "CN=older authsome CA, O=authsome",
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 3650 * DAY),
      signingAlgorithm: { name: "ECDSA", hash: "SHA-256" },
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true),
        // A key id that is not SHA-1 of the key: leaves must carry this one, not a recomputed one.
        new x509.SubjectKeyIdentifierExtension("0102030405060708"),
      ],
    });
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
    const store: CaStore = { load: () => Promise.resolve({ certPem: foreign.toString("pem"), keyPkcs8: pkcs8 }), save: () => Promise.reject(new Error("must not replace")) };
    const ca = await createCertificateAuthority(store);
    const leaf = new x509.X509Certificate((await ca.leafFor("kept.example.test")).certPem);
    assert.equal(leaf.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, "0102030405060708");
    assert.equal(leaf.issuer, "CN=older authsome CA, O=authsome");
    assert.ok(new X509Certificate(leaf.toString("pem")).checkIssued(new X509Certificate(foreign.toString("pem"))));
    assert.ok(await leaf.verify({ publicKey: keys.publicKey }));
  });

  it("shares one minting between concurrent callers and caches the result", async () => {
    const ca = await createCertificateAuthority(createMemoryCaStore());
    const [a, b] = await Promise.all([ca.leafFor("same.example.test"), ca.leafFor("SAME.example.test")]);
    assert.equal(a, b);
    assert.equal(await ca.leafFor("same.example.test"), a);
  });

  it("keeps at most cacheSize hosts, dropping the least recently used", async () => {
    const ca = await createCertificateAuthority(createMemoryCaStore(), { cacheSize: 2 });
    const a = await ca.leafFor("a.example.test");
    const b = await ca.leafFor("b.example.test");
    assert.equal(await ca.leafFor("a.example.test"), a); // a is now the most recent
    await ca.leafFor("c.example.test"); // evicts b
    assert.equal(await ca.leafFor("a.example.test"), a);
    assert.notEqual(await ca.leafFor("b.example.test"), b);
  });

  it("renews a leaf within a day of its expiry", async () => {
    let now = Date.now();
    const ca = await createCertificateAuthority(createMemoryCaStore(), { now: () => new Date(now) });
    const first = await ca.leafFor("renew.example.test");
    now += 28 * DAY;
    assert.equal(await ca.leafFor("renew.example.test"), first);
    now += 1.5 * DAY;
    const renewed = await ca.leafFor("renew.example.test");
    assert.notEqual(renewed, first);
    assert.ok(renewed.notAfter > first.notAfter);
  });

  it("replaces a stored CA close to its expiry, and refuses an unreadable one", async () => {
    const store = countingStore();
    let now = Date.now();
    const old = await createCertificateAuthority(store, { now: () => new Date(now) });
    now += 3640 * DAY;
    const fresh = await createCertificateAuthority(store, { now: () => new Date(now) });
    assert.notEqual(fresh.caCertPem(), old.caCertPem());
    assert.equal(store.saves, 2);
    const broken: CaStore = {
      load: () => Promise.resolve({ certPem: "not a certificate", keyPkcs8: new Uint8Array(8) }),
      save: () => Promise.resolve(),
    };
    await assert.rejects(createCertificateAuthority(broken), (error: unknown) => {
      assert.ok(error instanceof AuthsomeError);
      assert.equal(error.code, "record_invalid");
      return true;
    });
  });

  it("mints a new leaf in milliseconds", async () => {
    const ca = await createCertificateAuthority(createMemoryCaStore());
    await ca.leafFor("warm.example.test");
    const start = performance.now();
    for (let i = 0; i < 20; i += 1) await ca.leafFor(`host${i}.example.test`);
    const each = (performance.now() - start) / 20;
    console.log(`# leaf minting: ${each.toFixed(2)} ms per host`);
    assert.ok(each < 100, `minting took ${each} ms`);
  });
});
