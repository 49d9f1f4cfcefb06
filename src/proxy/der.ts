/**
 * The slice of DER (ITU-T X.690) that certificates need: writing the few universal types an
 * X.509 certificate is made of, and walking a TLV tree to read fields back. Just enough for
 * x509.ts; an X.509 library costs the proxy ~16 MB of heap and ~2 ms per certificate.
 */

export type Bytes = Uint8Array<ArrayBuffer>;

/** A value read by {@link readTlv}: its tag, its contents, and the whole encoding. */
export interface Tlv {
  tag: number;
  contents: Bytes;
  /** The complete TLV (tag, length and contents), for copying a field verbatim. */
  raw: Bytes;
  /** Offset just past this value in the buffer it was read from. */
  next: number;
}

const encoder = new TextEncoder();

export function concat(parts: readonly Bytes[]): Bytes {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Tag, definite length, contents. */
export function tlv(tag: number, contents: Bytes): Bytes {
  const n = contents.length;
  const length = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : n < 0x10000 ? [0x82, n >> 8, n & 0xff] : [0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  return concat([Uint8Array.of(tag, ...length), contents]);
}

export const sequence = (...parts: Bytes[]): Bytes => tlv(0x30, concat(parts));
export const set = (...parts: Bytes[]): Bytes => tlv(0x31, concat(parts));
export const octetString = (bytes: Bytes): Bytes => tlv(0x04, bytes);
export const utf8String = (text: string): Bytes => tlv(0x0c, encoder.encode(text));
export const ia5String = (text: string): Bytes => tlv(0x16, encoder.encode(text));
export const boolean = (value: boolean): Bytes => tlv(0x01, Uint8Array.of(value ? 0xff : 0));
/** A BIT STRING of whole bytes, or with `unusedBits` trailing bits unused (key usage flags). */
export const bitString = (bytes: Bytes, unusedBits = 0): Bytes => tlv(0x03, concat([Uint8Array.of(unusedBits), bytes]));
/** `[n]` EXPLICIT (constructed, wrapping a complete value). */
export const explicit = (n: number, value: Bytes): Bytes => tlv(0xa0 | n, value);
/** `[n]` IMPLICIT primitive (SAN dNSName/iPAddress, key identifier). */
export const implicit = (n: number, contents: Bytes): Bytes => tlv(0x80 | n, contents);

/** A non-negative INTEGER from big-endian magnitude bytes (leading zeros dropped, sign byte added). */
export function unsignedInteger(magnitude: Bytes): Bytes {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  const trimmed = magnitude.subarray(start);
  return tlv(0x02, (trimmed[0] ?? 0) & 0x80 ? concat([Uint8Array.of(0), trimmed]) : trimmed);
}

export const smallInteger = (n: number): Bytes => unsignedInteger(Uint8Array.of(n));

/** An OBJECT IDENTIFIER from dotted form. */
export function oid(dotted: string): Bytes {
  const arcs = dotted.split(".").map(Number);
  const out = [(arcs[0] ?? 0) * 40 + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const base128 = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) base128.unshift((rest & 0x7f) | 0x80);
    out.push(...base128);
  }
  return tlv(0x06, Uint8Array.from(out));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 section 4.1.2.5). */
export function time(date: Date): Bytes {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(0x17, encoder.encode(digits.slice(2))) : tlv(0x18, encoder.encode(digits));
}

/** Reads the TLV at `offset`; throws on truncated or indefinite-length input. */
export function readTlv(bytes: Bytes, offset = 0): Tlv {
  const tag = bytes[offset];
  let length = bytes[offset + 1];
  if (tag === undefined || length === undefined) throw new RangeError("truncated DER");
  let at = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 3) throw new RangeError("unsupported DER length");
    length = 0;
    for (let i = 0; i < count; i += 1) length = length * 256 + (bytes[at + i] ?? 0);
    at += count;
  }
  const end = at + length;
  if (end > bytes.length) throw new RangeError("truncated DER");
  return { tag, contents: bytes.subarray(at, end), raw: bytes.subarray(offset, end), next: end };
}

/** The values inside a constructed TLV's contents. */
export function children(contents: Bytes): Tlv[] {
  const out: Tlv[] = [];
  for (let at = 0; at < contents.length; ) {
    const child = readTlv(contents, at);
    out.push(child);
    at = child.next;
  }
  return out;
}

/** A UTCTime or GeneralizedTime value as a Date. */
export function readTime(value: Tlv): Date {
  const text = new TextDecoder().decode(value.contents);
  const full = value.tag === 0x17 ? `${Number(text.slice(0, 2)) >= 50 ? "19" : "20"}${text}` : text;
  const match = /^(\d{4})(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)Z$/.exec(full);
  if (match === null) throw new RangeError("unsupported certificate time");
  const [, y, mo, d, h, mi, s] = match.map(Number) as [number, number, number, number, number, number, number];
  return new Date(Date.UTC(y, mo - 1, d, h, mi, s));
}
