/**
 * The home's local certificate authority for the intercepting proxy: one long-lived ECDSA P-256
 * CA (kept by a {@link CaStore}, the vault in production) and short-lived leaf certificates
 * minted on demand per host, cached in memory. Where the store says which hosts the providers
 * broker, the CA is name-constrained to them (ca-hosts.ts): it refuses to sign for any other host,
 * TLS clients refuse a leaf outside the constraints, and a changed host set makes a new CA.
 *
 * WebCrypto only (certificates built by x509.ts), so it runs unchanged on Node and Deno.
 */
import { AuthsomeError } from "../core/errors.ts";
import { isValidHost, normalizeHost } from "./address.ts";
import { isPermitted, nameConstraints, namesKey, type PermittedNames } from "./ca-hosts.ts";
import * as x509 from "./x509.ts";

/** Where the CA certificate and its private key live between runs. */
export interface CaStore {
  /** The stored CA, or null when none was created yet; `names` is the {@link namesKey} it was made for. */
  load(): Promise<StoredCa | null>;
  /** Persists a newly created CA. */
  save(ca: StoredCa): Promise<void>;
  /** The names the CA may sign for (the providers' hosts); unconstrained when absent. */
  permitted?(): Promise<PermittedNames>;
  /**
   * Runs `fn` while no other process creates a CA for this store (the store's lock). Without it,
   * first runs started at once would each make and save their own CA, and children of all but
   * the last would trust a CA the proxy no longer signs with.
   */
  exclusive?<T>(fn: () => Promise<T>): Promise<T>;
}

/** A CA as a {@link CaStore} keeps it. */
export interface StoredCa {
  certPem: string;
  keyPkcs8: Uint8Array;
  /** The {@link namesKey} of the constraints it carries; absent for an unconstrained CA. */
  names?: string;
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
  /**
   * A leaf for `host` (DNS name or IP), from the cache when still valid for more than a day;
   * `host_not_brokered` for a host outside the CA's name constraints.
   */
  leafFor(host: string): Promise<LeafCertificate>;
  /** True when the CA may sign for `host` (the proxy does not intercept other hosts). */
  covers(host: string): boolean;
}

/** Options for {@link createCertificateAuthority}. */
export interface CertificateAuthorityOptions {
  /** Most hosts whose leaves stay cached (least recently used are dropped); default 500. */
  cacheSize?: number;
  /** Clock, for tests of expiry and renewal; default `() => new Date()`. */
  now?: () => Date;
  /** The names the CA may sign for; default: the store's {@link CaStore.permitted}, else none (unconstrained). */
  permitted?: PermittedNames;
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

interface LoadedCa {
  cert: x509.ParsedCertificate;
  certPem: string;
  key: CryptoKey;
}

/** What minting needs: the CA, and the one key pair every leaf shares. */
interface LeafMinter {
  ca: LoadedCa;
  spki: Uint8Array<ArrayBuffer>;
  keyPem: string;
  /** The extensions every leaf carries: CA constraints, usages, and the CA's key identifier. */
  extensions: Uint8Array<ArrayBuffer>[];
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
  const permitted = options.permitted ?? (await store.permitted?.());
  const ca = (await _loadCa(store, now(), permitted)) ?? (await _loadOrCreateCa(store, now, permitted));
  const minter = await _createMinter(ca);
  const cache = new _LruCache<Promise<LeafCertificate>>(options.cacheSize ?? 500);
  const covers = (host: string) => permitted === undefined || isPermitted(host, permitted);
  return {
    caCertPem: () => ca.certPem,
    covers: (host) => covers(normalizeHost(host)),
    async leafFor(rawHost) {
      const host = normalizeHost(rawHost);
      if (!isValidHost(host)) throw new AuthsomeError("usage", "cannot mint a certificate for an invalid host name");
      if (!covers(host)) {
        throw new AuthsomeError("host_not_brokered", `the proxy CA does not sign for ${host}: no provider's rules broker it (the CA is name-constrained to the providers' hosts)`, {
          hint: "install or fix the provider that should broker this host; its traffic is tunnelled untouched meanwhile",
        });
      }
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
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  // A CA made elsewhere may use another key-id method: link leaves by the id it states.
  const caKeyId = ca.cert.subjectKeyId ?? (await x509.keyIdentifier(ca.cert.spki));
  return {
    ca,
    spki: new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey)),
    keyPem: x509.toPem(pkcs8, "PRIVATE KEY"),
    extensions: [x509.basicConstraints(false), x509.keyUsage(false), x509.SERVER_AUTH, x509.authorityKeyIdentifier(caKeyId)],
  };
}

async function _mintLeaf(minter: LeafMinter, host: string, now: Date): Promise<LeafCertificate> {
  const notAfter = new Date(now.getTime() + LEAF_LIFETIME);
  const der = await x509.signCertificate(
    {
      serial: _randomSerial(),
      issuer: minter.ca.cert.subject,
      // CN is at most 64 characters (RFC 5280 ub-common-name); clients match on the SAN anyway.
      subject: x509.distinguishedName(host.length <= 64 ? host : undefined, "authsome"),
      notBefore: new Date(now.getTime() - BACKDATE),
      notAfter,
      spki: minter.spki,
      extensions: [...minter.extensions, x509.subjectAltName(host)],
    },
    minter.ca.key,
  );
  return { host, certPem: x509.toPem(der, "CERTIFICATE"), keyPem: minter.keyPem, notAfter };
}

/** A CA store kept in memory only (tests, and runs that need no persistence). */
export function createMemoryCaStore(): CaStore {
  let stored: StoredCa | null = null;
  return {
    load: () => Promise.resolve(stored),
    save: (ca) => {
      stored = { ...ca, keyPkcs8: new Uint8Array(ca.keyPkcs8) };
      return Promise.resolve();
    },
  };
}

async function _loadCa(store: CaStore, now: Date, permitted: PermittedNames | undefined): Promise<LoadedCa | null> {
  const stored = await store.load();
  if (stored === null) return null;
  // Made for another host set (or before constraints): remade, so its constraints match the providers.
  if (permitted !== undefined && stored.names !== namesKey(permitted)) return null;
  let cert: x509.ParsedCertificate;
  let key: CryptoKey;
  try {
    cert = x509.parseCertificate(x509.fromPem(stored.certPem, "CERTIFICATE"));
    key = await crypto.subtle.importKey("pkcs8", new Uint8Array(stored.keyPkcs8), EC_KEY, false, ["sign"]);
  } catch (error) {
    throw new AuthsomeError("record_invalid", "the stored proxy CA certificate or key cannot be read", {
      cause: error,
      hint: "remove the proxy CA record so that a new CA is created",
    });
  }
  if (cert.notAfter.getTime() - now.getTime() < CA_RENEW_BEFORE) return null;
  return { cert, certPem: stored.certPem.endsWith("\n") ? stored.certPem : `${stored.certPem}\n`, key };
}

/** Under the store's lock, looks again (another process may have just made it), else creates. */
function _loadOrCreateCa(store: CaStore, now: () => Date, permitted: PermittedNames | undefined): Promise<LoadedCa> {
  const create = async () => (await _loadCa(store, now(), permitted)) ?? (await _createCa(store, now(), permitted));
  return store.exclusive === undefined ? create() : store.exclusive(create);
}

async function _createCa(store: CaStore, now: Date, permitted: PermittedNames | undefined): Promise<LoadedCa> {
  const keys = await crypto.subtle.generateKey(EC_KEY, true, ["sign", "verify"]);
  const id = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => b.toString(16).padStart(2, "0")).join("");
  const name = x509.distinguishedName(`authsome local CA (${id})`, "authsome");
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const der = await x509.signCertificate(
    {
      serial: _randomSerial(),
      issuer: name,
      subject: name,
      notBefore: new Date(now.getTime() - BACKDATE),
      notAfter: new Date(now.getTime() + CA_LIFETIME),
      spki,
      extensions: [
        x509.basicConstraints(true), x509.keyUsage(true), x509.subjectKeyIdentifier(await x509.keyIdentifier(spki)),
        ...(permitted === undefined ? [] : [nameConstraints(permitted)]),
      ],
    },
    keys.privateKey,
  );
  const certPem = x509.toPem(der, "CERTIFICATE");
  const keyPkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  await store.save({ certPem, keyPkcs8, ...(permitted === undefined ? {} : { names: namesKey(permitted) }) });
  return { cert: x509.parseCertificate(der), certPem, key: keys.privateKey };
}

/** A positive 128-bit serial; the top bits are fixed so DER needs no padding byte. */
function _randomSerial(): Uint8Array<ArrayBuffer> {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] = ((bytes[0] ?? 0) & 0x3f) | 0x40;
  return bytes;
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
