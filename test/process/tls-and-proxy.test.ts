// Direct TLS, the non-loopback warning, and the client address behind a reverse proxy.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createHarness } from "../helpers/harness.js";
import { startLatch } from "../helpers/process.js";

const dirs: string[] = [];
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), "latch-tls-"));
  dirs.push(dir);
  return dir;
};

function httpsJson(url: string): Promise<{ status: number; body: string; protocol: string }> {
  return new Promise((resolve, reject) => {
    // The certificate is self-signed for this test; the point is that the server speaks TLS.
    get(url, { rejectUnauthorized: false }, (response) => {
      let body = "";
      response.on("data", (chunk) => {
        body += String(chunk);
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body, protocol: "https" }));
    }).on("error", reject);
  });
}

describe("serving", () => {
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("serves HTTPS with LATCH_TLS_CERT_FILE and LATCH_TLS_KEY_FILE", async () => {
    const dir = temp();
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", key, "-out", cert],
      {
        stdio: "ignore",
      },
    );
    const server = await startLatch({ LATCH_DATA_DIR: temp(), LATCH_TLS_CERT_FILE: cert, LATCH_TLS_KEY_FILE: key, LATCH_WORKERS: "off" });
    try {
      const listening = server.logs().find((line) => line.msg === "latch is listening");
      expect(String(listening?.url)).toMatch(/^https:\/\//);
      const response = await httpsJson(`${server.url.replace("http:", "https:")}/healthz`);
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toEqual({ status: "ok" });
      expect(server.logs().some((line) => String(line.msg).includes("without TLS"))).toBe(false);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it("warns when it listens beyond loopback without TLS", async () => {
    const server = await startLatch({ LATCH_DATA_DIR: temp(), LATCH_HOST: "0.0.0.0", LATCH_WORKERS: "off" });
    try {
      const warning = server.logs().find((line) => String(line.msg).includes("without TLS"));
      expect(warning?.level).toBe(40);
    } finally {
      await server.stop();
    }
  });

  it("takes the client address from X-Forwarded-For only with LATCH_TRUST_PROXY", async () => {
    const direct = await createHarness("sqlite");
    const proxied = await createHarness("sqlite", { LATCH_TRUST_PROXY: "127.0.0.1" });
    try {
      // A route that is logged at info (successful probes are logged at debug: README "Access log").
      const headers = { "x-forwarded-for": "203.0.113.7" };
      await direct.inject({ method: "GET", url: "/v1/tokens", headers });
      await proxied.inject({ method: "GET", url: "/v1/tokens", headers });
      const address = (logs: string[]) =>
        logs
          .map((line) => JSON.parse(line) as { req?: { url?: string; remoteAddress?: string } })
          .find((line) => line.req?.url === "/v1/tokens")?.req?.remoteAddress;
      expect(address(direct.logs)).toBe("127.0.0.1");
      expect(address(proxied.logs)).toBe("203.0.113.7");
    } finally {
      await direct.close();
      await proxied.close();
    }
  });
});
