// The address policy alone: public addresses pass, refused ones are refused in every spelling,
// and LATCH_OUTBOUND_ALLOW_CIDRS lets exactly its ranges through.
import { describe, expect, it } from "vitest";
import { checkAddress, parseAddress } from "../../src/modules/outbound/address-policy.js";

describe("address policy", () => {
  it.each(["93.184.216.34", "8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4007:80c::200e", "::ffff:8.8.8.8"])(
    "allows public %s",
    (address) => {
      expect(checkAddress(address, [])).toEqual({ allowed: true });
    },
  );

  it.each([
    ["127.0.0.1", /loopback/],
    ["::ffff:7f00:1", /loopback .*IPv4-mapped/],
    ["0:0:0:0:0:ffff:127.0.0.1", /loopback/],
    ["::ffff:0a00:0001", /10\.0\.0\.0\/8/],
    ["169.254.169.254", /metadata/],
    ["FD00:EC2:0:0:0:0:0:254", /metadata/],
    ["::127.0.0.1", /IPv4-compatible/],
    ["2001:db8::1", /documentation/],
    ["ff02::1", /multicast/],
    ["198.18.0.1", /benchmarking/],
  ])("refuses %s", (address, reason) => {
    const verdict = checkAddress(address, []);
    expect(verdict.allowed).toBe(false);
    if (!verdict.allowed) expect(verdict.reason).toMatch(reason);
  });

  it("allows exactly the allow-listed ranges, in either spelling", () => {
    const allow = ["127.0.0.1/32", "10.20.0.0/16", "fd12::/16"];
    expect(checkAddress("127.0.0.1", allow).allowed).toBe(true);
    expect(checkAddress("::ffff:127.0.0.1", allow).allowed).toBe(true);
    expect(checkAddress("127.0.0.2", allow).allowed).toBe(false);
    expect(checkAddress("10.20.255.1", allow).allowed).toBe(true);
    expect(checkAddress("10.21.0.1", allow).allowed).toBe(false);
    expect(checkAddress("fd12:3::1", allow).allowed).toBe(true);
    expect(checkAddress("fd13::1", allow).allowed).toBe(false);
  });

  it("reads every IPv6 spelling to the same bytes", () => {
    const bytes = (text: string) => Array.from(parseAddress(text)?.bytes ?? []);
    expect(bytes("::ffff:127.0.0.1")).toEqual(bytes("0:0:0:0:0:ffff:7f00:0001"));
    expect(bytes("[fe80::1]")).toEqual(bytes("fe80:0:0:0:0:0:0:1"));
    expect(parseAddress("1:2:3")).toBeNull();
    expect(parseAddress("999.1.1.1")).toBeNull();
  });
});
