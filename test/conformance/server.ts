// The server the conformance run talks to: buildApp on a real 127.0.0.1 port, SQLite in a fresh
// temporary directory, and a loopback token endpoint for the Reactor exchanges (client_credentials
// and Google's authorization_code). Exchange workers are off; the run drives them with drain() so
// every answer it records is the settled one, whatever the machine's load.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "../../src/app.js";
import { parseConfig } from "../../src/config.js";
import { type Context, createContext } from "../../src/context.js";
import { loadRootKeys } from "../../src/crypto/root-key.js";
import { connect } from "../../src/db/connect.js";
import { migrateToLatest } from "../../src/db/migrate.js";
import { createLogger } from "../../src/logging.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";

/** Every access or refresh token the run's token endpoint issues starts with this. */
export const TOKEN_PREFIX = "at-conformance-";
/** A client_id the token endpoint refuses with 401 invalid_client. */
export const FAILING_CLIENT_ID = "conformance-refused-client";

export const CONFORMANCE_TOKEN = `conformance-bootstrap-${randomBytes(16).toString("hex")}`;

export interface ConformanceServer {
  /** http://127.0.0.1:PORT */
  url: string;
  adminToken: string;
  app: FastifyInstance;
  context: Context;
  tokens: TokenServer;
  /** Every log line the server wrote (for the leak check). */
  logs: string[];
  /** Runs the exchange worker until nothing is due. */
  drain(): Promise<void>;
  close(): Promise<void>;
}

export async function startConformanceServer(): Promise<ConformanceServer> {
  const tokens = await startTokenServer();
  // One endpoint for every exchange of the run: Google's code grant, client_credentials, and a
  // client it refuses (FAILING_CLIENT_ID) for the failed-secret rows. Tokens carry a known prefix
  // so the run can tell a token from its redaction marker.
  let issued = 0;
  const token = () => `${TOKEN_PREFIX}${++issued}-${randomBytes(8).toString("hex")}`;
  tokens.behave((request) => {
    if (request.form.client_id === FAILING_CLIENT_ID) {
      return { kind: "status", status: 401, json: { error: "invalid_client", error_description: "unknown client" } };
    }
    return request.form.grant_type === "authorization_code"
      ? { kind: "ok", expiresIn: 3600, accessToken: token(), refreshToken: token() }
      : { kind: "ok", expiresIn: 86400, accessToken: token(), extra: { scope: "read" } };
  });
  const dataDir = mkdtempSync(join(tmpdir(), "latch-conformance-"));
  const config = parseConfig({
    LATCH_DATA_DIR: dataDir,
    LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
    LATCH_BOOTSTRAP_TOKEN: CONFORMANCE_TOKEN,
    LATCH_WORKERS: "off",
    // In the test's own process, as in test/helpers/harness.ts: the lag the server would see is
    // the whole test process's (a parallel suite on two cores once gave a 503 to a set-up call).
    LATCH_MAX_EVENT_LOOP_DELAY_MS: "0",
    LATCH_OUTBOUND_ALLOW_HTTP: "on",
    LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
    LATCH_GOOGLE_CLIENT_ID: "conformance.apps.example",
    LATCH_GOOGLE_CLIENT_SECRET: `google-secret-${randomBytes(8).toString("hex")}`,
    LATCH_GOOGLE_AUTH_URL: `${tokens.url}/auth`,
    LATCH_GOOGLE_TOKEN_URL: `${tokens.url}/token`,
  });
  const storage = connect({ databaseUrl: null, dataDir, poolSize: 4 });
  await migrateToLatest(storage);
  const logs: string[] = [];
  const logger = createLogger("info", {
    write(line: string) {
      logs.push(line);
    },
  });
  const context = createContext({ config, storage, rootKeys: loadRootKeys(config), logger });
  await context.keyring.verify();
  await context.bootstrap();
  const app = await buildApp({ context, logger });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    adminToken: CONFORMANCE_TOKEN,
    app,
    context,
    tokens,
    logs,
    async drain() {
      for (let tick = 0; tick < 100; tick++) if ((await context.exchange.runDue()).ran === 0) return;
      throw new Error("exchange jobs kept coming");
    },
    async close() {
      await app.close();
      await context.close();
      await tokens.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
