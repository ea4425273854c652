// Encryption where it meets storage: values written through the API are absent, in every
// encoding, from the SQLite file (WAL included) and from a pg_dump of the PostgreSQL database.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";

function encodings(value: string): string[] {
  const bytes = Buffer.from(value, "utf8");
  return [value, bytes.toString("base64"), bytes.toString("hex"), encodeURIComponent(value)];
}

function findAny(haystack: Buffer, needles: string[]): string | null {
  for (const needle of needles) if (haystack.includes(Buffer.from(needle, "utf8"))) return needle;
  return null;
}

describeEachDialect("values at rest", (dialect) => {
  let h: Harness;
  const plain = `plain-${randomBytes(16).toString("hex")}`;
  const secret = `secret-${randomBytes(16).toString("hex")}`;
  const fileSecret = `file-${randomBytes(16).toString("hex")}`;

  beforeAll(async () => {
    h = await createHarness(dialect);
    const orgId = (await h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id;
    const project = (await h.inject({ method: "POST", url: `/qovery/organization/${orgId}/project`, payload: { name: "p" } })).json();
    const writes = [
      { url: `/qovery/project/${project.id}/environmentVariable`, payload: { key: "PLAIN", value: plain } },
      { url: `/qovery/project/${project.id}/secret`, payload: { key: "SECRET", value: secret } },
      { url: `/qovery/project/${project.id}/secret`, payload: { key: "FILE", value: fileSecret, mount_path: "/etc/f" } },
    ];
    for (const write of writes) {
      const response = await h.inject({ method: "POST", ...write });
      expect(response.statusCode).toBe(201);
    }
  });
  afterAll(async () => h.close());

  it("stores no value in clear, base64, hex or URL-encoded form", async () => {
    const needles = [plain, secret, fileSecret].flatMap(encodings);
    if (dialect === "sqlite") {
      const bytes: Buffer[] = [];
      for (const suffix of ["", "-wal"]) {
        const file = join(h.dataDir, `latch.db${suffix}`);
        if (existsSync(file)) bytes.push(readFileSync(file));
      }
      expect(bytes.length).toBeGreaterThan(0);
      const all = Buffer.concat(bytes);
      // The rows are there (their keys are metadata), only the values are sealed.
      expect(all.includes(Buffer.from("SECRET"))).toBe(true);
      expect(findAny(all, needles)).toBeNull();
    } else {
      const dump = execFileSync("pg_dump", ["--no-owner", h.databaseUrl as string], { maxBuffer: 256 * 1024 * 1024 });
      expect(dump.includes(Buffer.from("SECRET"))).toBe(true);
      expect(findAny(dump, needles)).toBeNull();
    }
  });
});
