// Which addresses an outbound request may reach. Token URLs are user input, so a request to a
// loopback, private, link-local or metadata address could read internal services (SSRF).
// Addresses are compared as bytes, so every textual form (IPv4-mapped, compressed, NAT64,
// 6to4) of a refused address is refused too. Pure functions: no DNS, no sockets.
import { isIP } from "node:net";

interface Block {
  family: 4 | 6;
  bytes: Uint8Array;
  bits: number;
  /** Words for a person: what the address is. */
  reason: string;
}

function block(cidr: string, reason: string): Block {
  const parsed = parseCidr(cidr);
  if (parsed === null) throw new Error(`bad built-in CIDR ${cidr}`);
  return { ...parsed, reason };
}

// Order matters: the first match names the reason (the metadata address before link-local).
const BLOCKS: Block[] = [
  block("169.254.169.254/32", "the cloud metadata service"),
  block("0.0.0.0/8", "the 'this network' range 0.0.0.0/8"),
  block("10.0.0.0/8", "a private network (10.0.0.0/8)"),
  block("100.64.0.0/10", "carrier-grade NAT space (100.64.0.0/10)"),
  block("127.0.0.0/8", "loopback (127.0.0.0/8)"),
  block("169.254.0.0/16", "link-local (169.254.0.0/16)"),
  block("172.16.0.0/12", "a private network (172.16.0.0/12)"),
  block("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)"),
  block("192.0.2.0/24", "documentation space (192.0.2.0/24)"),
  block("192.88.99.0/24", "the 6to4 relay anycast range (192.88.99.0/24)"),
  block("192.168.0.0/16", "a private network (192.168.0.0/16)"),
  block("198.18.0.0/15", "benchmarking space (198.18.0.0/15)"),
  block("198.51.100.0/24", "documentation space (198.51.100.0/24)"),
  block("203.0.113.0/24", "documentation space (203.0.113.0/24)"),
  block("224.0.0.0/4", "multicast (224.0.0.0/4)"),
  block("240.0.0.0/4", "reserved space (240.0.0.0/4, including broadcast)"),
  block("fd00:ec2::254/128", "the cloud metadata service (fd00:ec2::254)"),
  block("::/128", "the unspecified address (::)"),
  block("::1/128", "loopback (::1)"),
  block("fc00::/7", "a unique local address (fc00::/7)"),
  block("fe80::/10", "link-local (fe80::/10)"),
  block("fec0::/10", "site-local (fec0::/10)"),
  block("ff00::/8", "multicast (ff00::/8)"),
  block("100::/64", "discard-only space (100::/64)"),
  block("2001:db8::/32", "documentation space (2001:db8::/32)"),
  block("2001::/32", "Teredo tunnelling (2001::/32)"),
  // Benchmarking, ORCHID, AMT, AS112, DETs and anycast services: no token endpoint lives there.
  block("2001::/23", "IETF protocol assignments (2001::/23)"),
  block("::/96", "a deprecated IPv4-compatible IPv6 address (::/96)"),
  // RFC 8215: translation inside one network, to any IPv4 address it chooses (not the checkable /96 form).
  block("64:ff9b:1::/48", "local-use NAT64 space (64:ff9b:1::/48)"),
  // RFC 2765 SIIT's IPv4-translated form, which a translator turns into the IPv4 address inside.
  block("::ffff:0:0:0/96", "an IPv4-translated (SIIT) IPv6 form (::ffff:0:0:0/96)"),
  block("100:0:0:1::/64", "the dummy IPv6 prefix (100:0:0:1::/64)"),
  block("3fff::/20", "documentation space (3fff::/20)"),
  block("5f00::/16", "segment routing (SRv6) SIDs (5f00::/16)"),
];

/** IPv6 ranges that carry an IPv4 address inside; the inner address is checked as IPv4. */
const EMBEDDING: Array<{ prefix: Block; offset: number; name: string }> = [
  { prefix: block("::ffff:0:0/96", "IPv4-mapped"), offset: 12, name: "an IPv4-mapped IPv6 form" },
  { prefix: block("64:ff9b::/96", "NAT64"), offset: 12, name: "a NAT64 IPv6 form" },
  { prefix: block("2002::/16", "6to4"), offset: 2, name: "a 6to4 IPv6 form" },
];

function parseV4(text: string): Uint8Array | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  const bytes = new Uint8Array(4);
  for (const [index, part] of parts.entries()) {
    if (!/^\d{1,3}$/.test(part)) return null;
    const value = Number(part);
    if (value > 255) return null;
    bytes[index] = value;
  }
  return bytes;
}

function parseV6(text: string): Uint8Array | null {
  if (isIP(text) !== 6) return null;
  let full = text;
  // A trailing dotted quad (::ffff:127.0.0.1) stands for the last two groups.
  const lastColon = full.lastIndexOf(":");
  const tail = full.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseV4(tail);
    if (v4 === null) return null;
    const hex = (high: number, low: number) => ((high << 8) | low).toString(16);
    full = `${full.slice(0, lastColon + 1)}${hex(v4[0] ?? 0, v4[1] ?? 0)}:${hex(v4[2] ?? 0, v4[3] ?? 0)}`;
  }
  const halves = full.split("::");
  if (halves.length > 2) return null;
  const groupsOf = (part: string | undefined) => (part === undefined || part === "" ? [] : part.split(":"));
  const left = groupsOf(halves[0]);
  const right = groupsOf(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...left, ...Array<string>(missing).fill("0"), ...right];
  const bytes = new Uint8Array(16);
  for (const [index, group] of groups.entries()) {
    if (!/^[0-9a-f]{1,4}$/i.test(group)) return null;
    const value = Number.parseInt(group, 16);
    bytes[index * 2] = value >> 8;
    bytes[index * 2 + 1] = value & 0xff;
  }
  return bytes;
}

/** An IP address as bytes, or null when the text is not an IP address. */
export function parseAddress(text: string): { family: 4 | 6; bytes: Uint8Array } | null {
  const bare = text.startsWith("[") && text.endsWith("]") ? text.slice(1, -1) : text;
  if (isIP(bare) === 4) {
    const bytes = parseV4(bare);
    return bytes === null ? null : { family: 4, bytes };
  }
  const bytes = parseV6(bare);
  return bytes === null ? null : { family: 6, bytes };
}

export function parseCidr(cidr: string): { family: 4 | 6; bytes: Uint8Array; bits: number } | null {
  const [address, bitsText, ...rest] = cidr.split("/");
  if (rest.length > 0 || address === undefined) return null;
  const parsed = parseAddress(address);
  if (parsed === null) return null;
  const max = parsed.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? max : /^\d+$/.test(bitsText) ? Number(bitsText) : -1;
  if (bits < 0 || bits > max) return null;
  return { ...parsed, bits };
}

function inBlock(family: 4 | 6, bytes: Uint8Array, range: { family: 4 | 6; bytes: Uint8Array; bits: number }): boolean {
  if (family !== range.family) return false;
  let remaining = range.bits;
  for (let index = 0; remaining > 0; index += 1, remaining -= 8) {
    const mask = remaining >= 8 ? 0xff : (0xff << (8 - remaining)) & 0xff;
    if (((bytes[index] ?? 0) & mask) !== ((range.bytes[index] ?? 0) & mask)) return false;
  }
  return true;
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), if any. */
function embeddedV4(bytes: Uint8Array): { bytes: Uint8Array; name: string } | null {
  for (const embedding of EMBEDDING) {
    if (!inBlock(6, bytes, embedding.prefix)) continue;
    return { bytes: bytes.slice(embedding.offset, embedding.offset + 4), name: embedding.name };
  }
  return null;
}

function formatV4(bytes: Uint8Array): string {
  return Array.from(bytes).join(".");
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/**
 * Whether an outbound connection to `address` is allowed. An address inside one of
 * `allowCidrs` (LATCH_OUTBOUND_ALLOW_CIDRS) is allowed whatever it is.
 */
export function checkAddress(address: string, allowCidrs: readonly string[]): AddressVerdict {
  const parsed = parseAddress(address);
  if (parsed === null) return { allowed: false, reason: "not an IP address" };
  const inner = parsed.family === 6 ? embeddedV4(parsed.bytes) : null;
  const allowList = allowCidrs.map(parseCidr).filter((range) => range !== null);
  const allowed = (family: 4 | 6, bytes: Uint8Array) => allowList.some((range) => inBlock(family, bytes, range));
  if (allowed(parsed.family, parsed.bytes) || (inner !== null && allowed(4, inner.bytes))) return { allowed: true };
  for (const range of BLOCKS) {
    if (inBlock(parsed.family, parsed.bytes, range)) return { allowed: false, reason: range.reason };
  }
  if (inner !== null) {
    for (const range of BLOCKS) {
      if (inBlock(4, inner.bytes, range)) {
        return { allowed: false, reason: `${range.reason}, written as ${inner.name} of ${formatV4(inner.bytes)}` };
      }
    }
  }
  return { allowed: true };
}
