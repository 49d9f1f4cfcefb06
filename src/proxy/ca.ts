/**
 * The home's local certificate authority for the intercepting proxy: one long-lived ECDSA P-256
 * CA (kept by a {@link CaStore}, the vault in production) and short-lived leaf certificates
 * minted on demand per host, cached in memory.
 *
 * WebCrypto only (through @peculiar/x509), so it runs unchanged on Node and Deno.
 */
import "reflect-metadata"; // @peculiar/x509 uses tsyringe decorators: must load first
import * as x509 from "@peculiar/x509";
import { isIP } from "node:net";
import { AuthsomeError } from "../core/errors.ts";
import { isValidHost, normalizeHost } from "./address.ts";

/** Where the CA certificate and its private key live between runs. */
export interface CaStore {
  /** The stored CA, or null when none was created yet. */
  load(): Promise<{ certPem: string; keyPkcs8: Uint8Array } | null>;
  /** Persists a newly created CA. */
  save(ca: { certPem: string; keyPkcs8: Uint8Array }): Promise<void>;
}

/** A leaf certificate for one host, signed by the CA. */
export interface LeafCertificate {
  /** The host it was minted for (normalised: lower case, no trailing dot, no brackets). */
  host: string;
  certPem: string;
  keyPem: string;
  notAfter: Date;
}

/** The CA as the proxy uses it. */
export interface CertificateAuthority {
  /** The CA certificate, for the child's trust bundle. */
  caCertPem(): string;
  /** A leaf for `host` (DNS name or IP), from the cache when still valid for more than a day. */
  leafFor(host: string): Promise<LeafCertificate>;
}

/** Options for {@link createCertificateAuthority}. */
export interface CertificateAuthorityOptions {
  /** Most hosts whose leaves stay cached (least recently used are dropped); default 500. */
  cacheSize?: number;
  /** Clock, for tests of expiry and renewal; default `() => new Date()`. */
  now?: () => Date;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CA_LIFETIME = 3652 * DAY;
const LEAF_LIFETIME = 30 * DAY;
/** Leaves start an hour in the past so a client whose clock is slightly behind accepts them. */
const BACKDATE = HOUR;
/** A cached leaf this close to expiry is replaced before use. */
const RENEW_BEFORE = DAY;
/** A stored CA this close to expiry is replaced: children would soon reject every leaf. */
const CA_RENEW_BEFORE = 30 * DAY;
const EC_KEY: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGNING: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

interface LoadedCa {
  cert: x509.X509Certificate;
  certPem: string;
  key: CryptoKey;
}

/** What minting needs: the CA, and the one key pair every leaf shares. */
interface LeafMinter {
  ca: LoadedCa;
  publicKey: CryptoKey;
  keyPem: string;
  authorityKeyId: x509.Extension;
}

/**
 * Loads the CA from `store`, creating and saving a new one when none is stored or the stored one
 * is about to expire, and returns the leaf minting service.
 */
export async function createCertificateAuthority(
  store: CaStore,
  options: CertificateAuthorityOptions = {},
): Promise<CertificateAuthority> {
  const now = options.now ?? (() => new Date());
  const ca = (await _loadCa(store, now())) ?? (await _createCa(store, now()));
  const minter = await _createMinter(ca);
  const cache = new _LruCache<Promise<LeafCertificate>>(options.cacheSize ?? 500);
  return {
    caCertPem: () => ca.certPem,
    async leafFor(rawHost) {
      const host = normalizeHost(rawHost);
      if (!isValidHost(host)) throw new AuthsomeError("usage", "cannot mint a certificate for an invalid host name");
      const cached = cache.get(host);
      if (cached !== undefined) {
        const leaf = await cached;
        if (leaf.notAfter.getTime() - now().getTime() > RENEW_BEFORE) return leaf;
        // About to expire: renew, unless another caller already did while this one waited.
        const current = cache.get(host);
        if (current !== undefined && current !== cached) return current;
      }
      // The promise is cached, not the result: concurrent handshakes for one host share one mint.
      const minting = _mintLeaf(minter, host, now());
      cache.set(host, minting);
      minting.catch(() => cache.delete(host, minting));
      return minting;
    },
  };
}

async function _createMinter(ca: LoadedCa): Promise<LeafMinter> {
  // One key pair for every leaf (as mitmproxy does): minting then costs one signature, and the
  // key never leaves this process, so per-host keys would add cost without adding isolation.
  const keys = await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return {
    ca,
    publicKey: keys.publicKey,
    keyPem: `${x509.PemConverter.encode(pkcs8, "PRIVATE KEY")}\n`,
    authorityKeyId: await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
  };
}

async function _mintLeaf(minter: LeafMinter, host: string, now: Date): Promise<LeafCertificate> {
  const notAfter = new Date(now.getTime() + LEAF_LIFETIME);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: _randomSerial(),
    subject: _leafSubject(host),
    issuer: minter.ca.cert.subjectName,
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter,
    signingAlgorithm: SIGNING,
    publicKey: minter.publicKey,
    signingKey: minter.ca.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: isIP(host) ? "ip" : "dns", value: host }]),
      minter.authorityKeyId,
    ],
  });
  return { host, certPem: _pem(cert), keyPem: minter.keyPem, notAfter };
}

/** A CA store kept in memory only (tests, and runs that need no persistence). */
export function createMemoryCaStore(): CaStore {
  let stored: { certPem: string; keyPkcs8: Uint8Array } | null = null;
  return {
    load: () => Promise.resolve(stored),
    save: (ca) => {
      stored = { certPem: ca.certPem, keyPkcs8: new Uint8Array(ca.keyPkcs8) };
      return Promise.resolve();
    },
  };
}

async function _loadCa(store: CaStore, now: Date): Promise<LoadedCa | null> {
  const stored = await store.load();
  if (stored === null) return null;
  let cert: x509.X509Certificate;
  let key: CryptoKey;
  try {
    cert = new x509.X509Certificate(stored.certPem);
    key = await crypto.subtle.importKey("pkcs8", new Uint8Array(stored.keyPkcs8), EC_KEY, false, ["sign"]);
  } catch (error) {
    throw new AuthsomeError("record_invalid", "the stored proxy CA certificate or key cannot be read", {
      cause: error,
      hint: "remove the proxy CA record so that a new CA is created",
    });
  }
  if (cert.notAfter.getTime() - now.getTime() < CA_RENEW_BEFORE) return null;
  return { cert, certPem: _pem(cert), key };
}

async function _createCa(store: CaStore, now: Date): Promise<LoadedCa> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
  const id = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: _randomSerial(),
    name: [{ CN: [`authsome local CA (${id})`] }, { O: ["authsome"] }],
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + CA_LIFETIME),
    signingAlgorithm: SIGNING,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const certPem = _pem(cert);
  const keyPkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  await store.save({ certPem, keyPkcs8 });
  return { cert, certPem, key: keys.privateKey };
}

/** PEM with a final newline, so that bundles can be made by concatenation. */
function _pem(cert: x509.X509Certificate): string {
  return `${cert.toString("pem")}\n`;
}

/** A positive 128-bit serial; the top bits are fixed so DER needs no padding byte. */
function _randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** CN is at most 64 characters (RFC 5280 ub-common-name); clients match on the SAN anyway. */
function _leafSubject(host: string): x509.JsonName {
  return host.length <= 64 ? [{ CN: [host] }, { O: ["authsome"] }] : [{ O: ["authsome"] }];
}

/** A Map kept in recency order: re-inserting on read moves a key to the end. */
class _LruCache<V> {
  readonly #max: number;
  readonly #map = new Map<string, V>();

  constructor(max: number) {
    this.#max = Math.max(1, max);
  }

  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
  }

  /** Deletes `key` only while it still maps to `value` (a failed mint must not evict its successor). */
  delete(key: string, value: V): void {
    if (this.#map.get(key) === value) this.#map.delete(key);
  }
}
