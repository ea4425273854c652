// Canaries: random values planted in secret material, then searched for in everything Latch
// says (bodies, headers, log lines) and stores (database bytes), in every encoding a careless
// change could use to carry them: raw, base64 (at any byte alignment), base64url, hex and
// URL-encoding.
import { randomBytes } from "node:crypto";

export interface Canary {
  label: string;
  value: string;
}

export interface CanaryHit {
  label: string;
  encoding: string;
}

/** A random marker; `/`, `+` and `=` make its URL and form encodings differ from the raw text. */
export function newCanary(label: string): string {
  return `cnry-${label}-${randomBytes(9).toString("hex")}/${randomBytes(6).toString("base64url")}+=`;
}

function base64Forms(bytes: Buffer): string[] {
  const forms: string[] = [];
  // A value inside a larger base64 text starts at one of three byte alignments; the middle of
  // each alignment's encoding is what such a text would contain.
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift, 0), bytes]);
    const encoded = padded.toString("base64");
    const start = shift === 0 ? 0 : 4;
    const middle = encoded.slice(start, encoded.length - 4);
    if (middle.length >= 12) forms.push(middle, middle.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return forms;
}

/** The encodings to look for, each with its name. */
export function encodingsOf(value: string): Array<{ encoding: string; text: string }> {
  const bytes = Buffer.from(value, "utf8");
  const forms: Array<{ encoding: string; text: string }> = [
    { encoding: "raw", text: value },
    { encoding: "url", text: encodeURIComponent(value) },
    { encoding: "form", text: new URLSearchParams({ v: value }).toString().slice(2) },
    { encoding: "hex", text: bytes.toString("hex") },
    { encoding: "HEX", text: bytes.toString("hex").toUpperCase() },
    { encoding: "json", text: JSON.stringify(value).slice(1, -1) },
  ];
  for (const text of base64Forms(bytes)) forms.push({ encoding: "base64", text });
  return forms;
}

export class CanarySet {
  readonly canaries: Canary[] = [];
  private needles: Array<{ label: string; encoding: string; text: string; bytes: Buffer }> = [];

  /** Plants a fresh canary and returns its value. */
  mint(label: string): string {
    const value = newCanary(label);
    this.add(label, value);
    return value;
  }

  /** Registers a value chosen elsewhere (a generated key, a database password Latch made). */
  add(label: string, value: string): void {
    if (value.length < 12) throw new Error(`canary ${label} is too short to search for`);
    this.canaries.push({ label, value });
    for (const form of encodingsOf(value)) {
      this.needles.push({ label, encoding: form.encoding, text: form.text, bytes: Buffer.from(form.text, "utf8") });
    }
  }

  get size(): number {
    return this.canaries.length;
  }

  /** Every canary found in a text, with the encoding it was found in. */
  findIn(text: string): CanaryHit[] {
    const hits: CanaryHit[] = [];
    for (const needle of this.needles) if (text.includes(needle.text)) hits.push({ label: needle.label, encoding: needle.encoding });
    return hits;
  }

  /** Every canary found in raw bytes (a database file or dump). */
  findInBytes(haystack: Buffer): CanaryHit[] {
    const hits: CanaryHit[] = [];
    for (const needle of this.needles) if (haystack.includes(needle.bytes)) hits.push({ label: needle.label, encoding: needle.encoding });
    return hits;
  }
}
