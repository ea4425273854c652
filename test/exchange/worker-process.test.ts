// `latch worker` and `latch serve` as real processes on the test's database: a credential
// written by the test is exchanged by the child's workers against the local token server, and
// SIGTERM stops the worker cleanly.
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/harness.js";
import { startLatch } from "../helpers/process.js";
import { createExchangeBed, type ExchangeBed } from "./exchange-bed.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function childEnv(bed: ExchangeBed): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/tmp",
    LATCH_DATA_DIR: bed.h.dataDir,
    LATCH_ROOT_KEY: bed.h.config.rootKey?.toString("base64") ?? "",
    LATCH_OUTBOUND_ALLOW_HTTP: "1",
    LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
    LATCH_LOG_LEVEL: "info",
    ...(bed.h.databaseUrl === null ? {} : { DATABASE_URL: bed.h.databaseUrl }),
  };
}

async function waitForStatus(bed: ExchangeBed, id: string, child: { stdout: () => string }): Promise<string> {
  // Polls the row the child process writes; gives up after ~15 s with the child's output.
  for (let poll = 0; poll < 300; poll += 1) {
    const { status } = await bed.row(id);
    if (status !== "pending") return status;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`still pending; child output:\n${child.stdout()}`);
}

describeEachDialect("exchange workers in a process", (dialect) => {
  let bed: ExchangeBed;
  beforeAll(async () => {
    bed = await createExchangeBed(dialect);
  });
  afterAll(async () => bed.close());

  it("`latch worker` exchanges pending credentials and stops on SIGTERM", async () => {
    const child: ChildProcess = spawn(`${ROOT}node_modules/.bin/tsx`, ["src/main.ts", "worker"], {
      cwd: ROOT,
      env: childEnv(bed),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk) => {
      output += String(chunk);
    });
    child.stderr?.on("data", (chunk) => {
      output += String(chunk);
    });
    const exited = once(child, "exit") as Promise<[number | null]>;
    try {
      const id = await bed.createCredential({
        provider: "oauth2",
        fields: { client_id: "proc", client_secret: "proc-secret-CANARY", token_url: `${bed.server.url}/token` },
      });
      bed.server.behave({ kind: "ok", expiresIn: 86400 });
      expect(await waitForStatus(bed, id, { stdout: () => output })).toBe("succeeded");
    } finally {
      child.kill("SIGTERM");
    }
    const [code] = await exited;
    expect(code).toBe(0);
    expect(output).toContain("exchange worker started");
    expect(output).not.toContain("CANARY");
  });

  it("`latch serve` runs the workers too", async () => {
    const latch = await startLatch(childEnv(bed));
    try {
      const id = await bed.createCredential({ provider: "simple-http", fields: { username: "u", password: "serve-pw-CANARY" } });
      expect(await waitForStatus(bed, id, { stdout: () => latch.stdout })).toBe("succeeded");
    } finally {
      expect(await latch.stop()).toBe(0);
    }
    expect(latch.stdout).not.toContain("CANARY");
  });
});
