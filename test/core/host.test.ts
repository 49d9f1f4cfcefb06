/**
 * core/host.ts's IP check against node:net's isIP on the same inputs (it replaced isIP so the
 * CLI's start-up does not load node:net): the same answer for every address form and every
 * malformed one, except IPv6 zone ids, which are refused on purpose.
 */
import assert from "node:assert/strict";
import { isIP } from "node:net";
import { test } from "node:test";
import { isIpAddress, isValidHost } from "../../src/core/host.ts";

const SAME = [
  "0.0.0.0", "1.2.3.4", "127.0.0.1", "255.255.255.255", "256.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "1.2.3.4.", ".1.2.3.4", "1..2.3", "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ",
  "::", "::1", "1::", "fe80::1", "2001:db8::8a2e:370:7334", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::ffff:1.2.3.4", "::1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "::ffff:256.1.1.1",
  ":::", "1::2::3", "12345::", "g::1", "::1.2.3", "1.2.3.4:", ":1", "1:", "FE80::ABCD", "::1]", "[::1]", "::1/64", "::1@evil.example", "",
  "example.com", "a:b",
];

test("isIpAddress answers as node:net's isIP does, address by address", () => {
  for (const input of SAME) assert.equal(isIpAddress(input), isIP(input) !== 0, JSON.stringify(input));
});

test("an IPv6 zone id is refused (isIP takes it), and text around an address never parses as one", () => {
  assert.equal(isIP("fe80::1%eth0"), 6);
  assert.equal(isIpAddress("fe80::1%eth0"), false);
  for (const input of ["::1]@evil.example:80/[", "::1]/x", "a@::1"]) assert.equal(isIpAddress(input), false, input);
  assert.equal(isValidHost("::1"), true);
  assert.equal(isValidHost("fe80::1%25eth0"), false);
});
