// The outbound guard against the IANA special-purpose address registries, entry by entry
// (iana-ipv4-special-registry and iana-ipv6-special-registry, as of 2025). Every block that is
// not globally reachable is refused at its first, middle and last address; a globally reachable
// one is allowed unless a wider refused block holds it (written in `refused`, with why).
// Blocks that embed an IPv4 address are checked by that address. Issue #16 found two IPv6 forms
// that passed: 64:ff9b:1::/48 (RFC 8215) and ::ffff:0:0:0/96 (SIIT).
import { describe, expect, it } from "vitest";
import { checkAddress } from "../../src/modules/outbound/address-policy.js";

interface Entry {
  block: string;
  name: string;
  /** The registry's Globally Reachable column (null: N/A). */
  reachable: boolean | null;
  /** What the guard does with the block's addresses ("inner": judges the IPv4 address inside, tested below). */
  refused: boolean | "inner";
  why?: string;
}

const IPV4: Entry[] = [
  { block: "0.0.0.0/8", name: '"This network"', reachable: false, refused: true },
  { block: "0.0.0.0/32", name: '"This host on this network"', reachable: false, refused: true },
  { block: "10.0.0.0/8", name: "Private-Use", reachable: false, refused: true },
  { block: "100.64.0.0/10", name: "Shared Address Space", reachable: false, refused: true },
  { block: "127.0.0.0/8", name: "Loopback", reachable: false, refused: true },
  { block: "169.254.0.0/16", name: "Link Local", reachable: false, refused: true },
  { block: "172.16.0.0/12", name: "Private-Use", reachable: false, refused: true },
  { block: "192.0.0.0/24", name: "IETF Protocol Assignments", reachable: false, refused: true },
  { block: "192.0.0.0/29", name: "IPv4 Service Continuity Prefix", reachable: false, refused: true },
  { block: "192.0.0.8/32", name: "IPv4 dummy address", reachable: false, refused: true },
  { block: "192.0.0.9/32", name: "Port Control Protocol Anycast", reachable: true, refused: true, why: "inside 192.0.0.0/24" },
  { block: "192.0.0.10/32", name: "Traversal Using Relays around NAT Anycast", reachable: true, refused: true, why: "inside 192.0.0.0/24" },
  { block: "192.0.0.170/32", name: "NAT64/DNS64 Discovery", reachable: false, refused: true },
  { block: "192.0.0.171/32", name: "NAT64/DNS64 Discovery", reachable: false, refused: true },
  { block: "192.0.2.0/24", name: "Documentation (TEST-NET-1)", reachable: false, refused: true },
  { block: "192.31.196.0/24", name: "AS112-v4", reachable: true, refused: false },
  { block: "192.52.193.0/24", name: "AMT", reachable: true, refused: false },
  { block: "192.88.99.0/24", name: "Deprecated (6to4 Relay Anycast)", reachable: null, refused: true },
  { block: "192.168.0.0/16", name: "Private-Use", reachable: false, refused: true },
  { block: "192.175.48.0/24", name: "Direct Delegation AS112 Service", reachable: true, refused: false },
  { block: "198.18.0.0/15", name: "Benchmarking", reachable: false, refused: true },
  { block: "198.51.100.0/24", name: "Documentation (TEST-NET-2)", reachable: false, refused: true },
  { block: "203.0.113.0/24", name: "Documentation (TEST-NET-3)", reachable: false, refused: true },
  { block: "240.0.0.0/4", name: "Reserved", reachable: false, refused: true },
  { block: "255.255.255.255/32", name: "Limited Broadcast", reachable: false, refused: true },
];

const IPV6: Entry[] = [
  { block: "::1/128", name: "Loopback Address", reachable: false, refused: true },
  { block: "::/128", name: "Unspecified Address", reachable: false, refused: true },
  { block: "::ffff:0:0/96", name: "IPv4-mapped Address", reachable: false, refused: "inner", why: "the IPv4 address it names is checked" },
  { block: "64:ff9b:1::/48", name: "IPv4-IPv6 Translat. (local use)", reachable: false, refused: true },
  { block: "100::/64", name: "Discard-Only Address Block", reachable: false, refused: true },
  { block: "100:0:0:1::/64", name: "Dummy IPv6 Prefix", reachable: false, refused: true },
  { block: "2001::/23", name: "IETF Protocol Assignments", reachable: false, refused: true },
  { block: "2001::/32", name: "TEREDO", reachable: null, refused: true },
  { block: "2001:1::1/128", name: "Port Control Protocol Anycast", reachable: true, refused: true, why: "inside 2001::/23" },
  { block: "2001:1::2/128", name: "Traversal Using Relays around NAT Anycast", reachable: true, refused: true, why: "inside 2001::/23" },
  { block: "2001:1::3/128", name: "DNS-SD Service Registration Protocol Anycast", reachable: true, refused: true, why: "inside 2001::/23" },
  { block: "2001:2::/48", name: "Benchmarking", reachable: false, refused: true },
  { block: "2001:3::/32", name: "AMT", reachable: true, refused: true, why: "inside 2001::/23" },
  { block: "2001:4:112::/48", name: "AS112-v6", reachable: true, refused: true, why: "inside 2001::/23" },
  { block: "2001:10::/28", name: "Deprecated (previously ORCHID)", reachable: null, refused: true },
  { block: "2001:20::/28", name: "ORCHIDv2", reachable: true, refused: true, why: "inside 2001::/23" },
  {
    block: "2001:30::/28",
    name: "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
    reachable: true,
    refused: true,
    why: "inside 2001::/23",
  },
  { block: "2001:db8::/32", name: "Documentation", reachable: false, refused: true },
  { block: "2620:4f:8000::/48", name: "Direct Delegation AS112 Service", reachable: true, refused: false },
  { block: "3fff::/20", name: "Documentation", reachable: false, refused: true },
  { block: "5f00::/16", name: "Segment Routing (SRv6) SIDs", reachable: false, refused: true },
  { block: "fc00::/7", name: "Unique-Local", reachable: false, refused: true },
  { block: "fe80::/10", name: "Link-Local Unicast", reachable: false, refused: true },
  // Not in the registry, refused too (issue #16): RFC 2765's IPv4-translated form.
  { block: "::ffff:0:0:0/96", name: "SIIT IPv4-translated (RFC 2765)", reachable: null, refused: true },
];

/** Blocks that carry an IPv4 address at a fixed place: checked as that address. */
const EMBEDDING = [
  { name: "IPv4-mapped (::ffff:0:0/96)", form: (v4: string) => `::ffff:${v4}` },
  { name: "IPv4-IPv6 Translat. (64:ff9b::/96, globally reachable)", form: (v4: string) => `64:ff9b::${v4}` },
  { name: "6to4 (2002::/16, N/A)", form: (v4: string) => `2002:${hex16(v4, 0)}:${hex16(v4, 2)}::1` },
];

function hex16(v4: string, at: number): string {
  const parts = v4.split(".").map(Number);
  return (((parts[at] ?? 0) << 8) | (parts[at + 1] ?? 0)).toString(16);
}

/** The first, middle and last address of a block, written independently of the guard's parser. */
function samples(cidr: string): string[] {
  const [address = "", bitsText = ""] = cidr.split("/");
  const bits = Number(bitsText);
  if (address.includes(".")) {
    const base = address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
    const size = 2 ** (32 - bits);
    const v4 = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join(".");
    return [...new Set([v4(base), v4(base + Math.floor(size / 2)), v4(base + size - 1)])];
  }
  const [head = "", tail = ""] = address.split("::");
  const groups = (text: string) => (text === "" ? [] : text.split(":"));
  const full = [...groups(head), ...Array(8 - groups(head).length - groups(tail).length).fill("0"), ...groups(tail)];
  const base = full.reduce((n, group) => (n << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
  const size = 1n << BigInt(128 - bits);
  const v6 = (n: bigint) => Array.from({ length: 8 }, (_, index) => ((n >> BigInt((7 - index) * 16)) & 0xffffn).toString(16)).join(":");
  return [...new Set([v6(base), v6(base + size / 2n), v6(base + size - 1n)])];
}

describe("security: the outbound guard against the IANA special-purpose registries", () => {
  it.each([...IPV4, ...IPV6].filter((entry) => entry.refused !== "inner"))("$block ($name): refused $refused", ({ block, refused }) => {
    for (const address of samples(block)) {
      const verdict = checkAddress(address, []);
      expect(verdict.allowed, `${address} in ${block}`).toBe(!refused);
      if (!verdict.allowed) expect(verdict.reason).not.toBe("not an IP address");
    }
  });

  it("refuses every block that is not globally reachable (the table is complete in what it claims)", () => {
    const notReachable = [...IPV4, ...IPV6].filter((entry) => entry.reachable === false);
    expect(notReachable.every((entry) => entry.refused !== false)).toBe(true);
    expect(IPV4.length).toBe(25);
    expect(IPV6.length).toBe(24);
  });

  it.each(EMBEDDING)("checks $name by the IPv4 address inside", ({ form }) => {
    for (const entry of IPV4) {
      for (const v4 of samples(entry.block)) expect(checkAddress(form(v4), []).allowed, `${form(v4)} (${v4})`).toBe(!entry.refused);
    }
    expect(checkAddress(form("8.8.8.8"), []).allowed).toBe(true);
  });

  it("names the two forms issue #16 found, and lets the allow-list open them on purpose", () => {
    expect(checkAddress("64:ff9b:1::a00:1", [])).toEqual({ allowed: false, reason: "local-use NAT64 space (64:ff9b:1::/48)" });
    expect(checkAddress("::ffff:0:7f00:1", [])).toEqual({
      allowed: false,
      reason: "an IPv4-translated (SIIT) IPv6 form (::ffff:0:0:0/96)",
    });
    expect(checkAddress("64:ff9b:1::a00:1", ["64:ff9b:1::/48"]).allowed).toBe(true);
    // Global unicast stays reachable.
    for (const address of ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"]) {
      expect(checkAddress(address, []).allowed, address).toBe(true);
    }
  });
});
