/**
 * X.509 v3 certificates for the proxy's CA (RFC 5280): built from DER pieces (der.ts) and signed
 * with ECDSA P-256 through WebCrypto, so they are made the same way on Node and Deno. Only the
 * fields a TLS client checks are written: names, validity, key, CA constraints, key usage,
 * server-auth EKU, subject alternative name, and key identifiers to link a leaf to its CA.
 */
import { Buffer } from "node:buffer";
import { isIP } from "node:net";
import * as der from "./der.ts";

type Bytes = der.Bytes;

/** What a certificate says; `issuer` and `subject` are DER Names, `spki` a DER SubjectPublicKeyInfo. */
export interface CertificateFields {
  serial: Bytes;
  issuer: Bytes;
  subject: Bytes;
  notBefore: Date;
  notAfter: Date;
  spki: Bytes;
  extensions: Bytes[];
}

/** The fields of a stored CA certificate that minting leaves needs. */
export interface ParsedCertificate {
  subject: Bytes;
  notAfter: Date;
  spki: Bytes;
  subjectKeyId: Bytes | undefined;
}

const ECDSA_WITH_SHA256 = der.sequence(der.oid("1.2.840.10045.4.3.2"));
const SIGNING: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

/** Signs `fields` with `key` (ECDSA P-256) and returns the certificate's DER. */
export async function signCertificate(fields: CertificateFields, key: CryptoKey): Promise<Bytes> {
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(fields.serial),
    ECDSA_WITH_SHA256,
    fields.issuer,
    der.sequence(der.time(fields.notBefore), der.time(fields.notAfter)),
    fields.subject,
    fields.spki,
    der.explicit(3, der.sequence(...fields.extensions)),
  );
  // WebCrypto returns r || s; X.509 wants SEQUENCE { r INTEGER, s INTEGER }.
  const raw = new Uint8Array(await crypto.subtle.sign(SIGNING, key, tbs));
  const signature = der.sequence(der.unsignedInteger(raw.subarray(0, 32)), der.unsignedInteger(raw.subarray(32)));
  return der.sequence(tbs, ECDSA_WITH_SHA256, der.bitString(signature));
}

/** A Name of a common name (omitted when undefined) and an organisation. */
export function distinguishedName(commonName: string | undefined, organisation: string): Bytes {
  const rdn = (type: string, value: string): Bytes => der.set(der.sequence(der.oid(type), der.utf8String(value)));
  const parts = commonName === undefined ? [] : [rdn("2.5.4.3", commonName)];
  return der.sequence(...parts, rdn("2.5.4.10", organisation));
}

function _extension(id: string, critical: boolean, value: Bytes): Bytes {
  return der.sequence(der.oid(id), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

/** basicConstraints (critical): a CA allowed to sign leaves only (pathLen 0), or not a CA. */
export function basicConstraints(ca: boolean): Bytes {
  return _extension("2.5.29.19", true, ca ? der.sequence(der.boolean(true), der.smallInteger(0)) : der.sequence());
}

/** keyUsage (critical): keyCertSign + cRLSign for a CA, digitalSignature for a leaf. */
export function keyUsage(ca: boolean): Bytes {
  return _extension("2.5.29.15", true, ca ? der.bitString(Uint8Array.of(0x06), 1) : der.bitString(Uint8Array.of(0x80), 7));
}

/** extKeyUsage: TLS server authentication. */
export const SERVER_AUTH = _extension("2.5.29.37", false, der.sequence(der.oid("1.3.6.1.5.5.7.3.1")));

/** subjectAltName for one DNS name or IP address. */
export function subjectAltName(host: string): Bytes {
  const name = isIP(host) === 0 ? der.implicit(2, new TextEncoder().encode(host)) : der.implicit(7, ipBytes(host));
  return _extension("2.5.29.17", false, der.sequence(name));
}

export const subjectKeyIdentifier = (keyId: Bytes): Bytes => _extension("2.5.29.14", false, der.octetString(keyId));
export const authorityKeyIdentifier = (keyId: Bytes): Bytes => _extension("2.5.29.35", false, der.sequence(der.implicit(0, keyId)));

/** RFC 5280 section 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
export async function keyIdentifier(spki: Bytes): Promise<Bytes> {
  const key = der.children(der.readTlv(spki).contents)[1];
  if (key === undefined || key.tag !== 0x03) throw new RangeError("not a SubjectPublicKeyInfo");
  return new Uint8Array(await crypto.subtle.digest("SHA-1", key.contents.subarray(1)));
}

/** Reads what leaf minting needs from a certificate's DER; throws RangeError when malformed. */
export function parseCertificate(certificate: Bytes): ParsedCertificate {
  const [tbs] = der.children(der.readTlv(certificate).contents);
  if (tbs === undefined || tbs.tag !== 0x30) throw new RangeError("not a certificate");
  const fields = der.children(tbs.contents);
  const at = fields[0]?.tag === 0xa0 ? 1 : 0; // version is optional (v1)
  const validity = fields[at + 3];
  const subject = fields[at + 4];
  const spki = fields[at + 5];
  const notAfter = validity === undefined ? undefined : der.children(validity.contents)[1];
  if (subject === undefined || spki === undefined || notAfter === undefined) throw new RangeError("truncated certificate");
  return { subject: subject.raw, notAfter: der.readTime(notAfter), spki: spki.raw, subjectKeyId: _subjectKeyId(fields) };
}

function _subjectKeyId(fields: der.Tlv[]): Bytes | undefined {
  const extensions = fields.find((field) => field.tag === 0xa3);
  if (extensions === undefined) return undefined;
  const skiOid = der.oid("2.5.29.14");
  for (const extension of der.children(der.readTlv(extensions.contents).contents)) {
    const parts = der.children(extension.contents);
    if (parts[0] === undefined || Buffer.compare(parts[0].raw, skiOid) !== 0) continue;
    const value = parts.at(-1);
    return value === undefined ? undefined : der.readTlv(value.contents).contents;
  }
  return undefined;
}

/** IPv4 or IPv6 text (no brackets) as 4 or 16 bytes. */
export function ipBytes(host: string): Bytes {
  if (isIP(host) === 4) return Uint8Array.from(host.split(".").map(Number));
  const [head = "", tail] = host.split("::");
  const groups = (part: string): number[] => {
    if (part === "") return [];
    return part.split(":").flatMap((group) => {
      if (!group.includes(".")) return [Number.parseInt(group, 16)];
      const [a = 0, b = 0, c = 0, d = 0] = group.split(".").map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return Uint8Array.from(all.flatMap((group) => [group >> 8, group & 0xff]));
}

/** PEM with a final newline, so that bundles can be made by concatenation. */
export function toPem(bytes: Bytes, label: string): string {
  const base64 = Buffer.from(bytes).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

/** The DER inside the first PEM block labelled `label`; throws RangeError when there is none. */
export function fromPem(pem: string, label: string): Bytes {
  const match = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(pem);
  if (match === null) throw new RangeError(`no ${label} PEM block`);
  return new Uint8Array(Buffer.from((match[1] ?? "").replace(/\s+/g, ""), "base64"));
}
