// A test bed for the exchange engine: a harness on one engine (SQLite or PostgreSQL), a real
// local token server, a clock the test moves, credentials inserted through the keyring as the
// Reactor service stores them, and engines whose log lines are captured for leak checks.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import type { DialectName } from "../../src/db/connect.js";
import type { CredentialsTable } from "../../src/db/types.js";
import type { Principal } from "../../src/kernel/principal.js";
import { createLogger } from "../../src/logging.js";
import { cipherRef, credentialVariableName, hiddenFields, type Provider } from "../../src/modules/credentials/credential-types.js";
import { createExchangeEngine, type ExchangeEngine } from "../../src/modules/credentials/engine/exchange-engine.js";
import { enqueueExchange } from "../../src/modules/credentials/exchange-queue.js";
import { createOutboundClient } from "../../src/modules/outbound/outbound-client.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";

export const ADMIN: Principal = {
  tokenId: "exchange-tests",
  name: "exchange tests",
  role: "instance-admin",
  organizationId: null,
  projectId: null,
  environmentId: null,
  serviceId: null,
};

/** Short, so the timeout case does not wait 10 s. */
export const TEST_TIMEOUT_MS = 400;

export interface Clock {
  now(): Date;
  set(at: Date): void;
  advance(ms: number): void;
}

export function createClock(start = new Date()): Clock {
  let current = new Date(start);
  return {
    now: () => new Date(current),
    set(at) {
      current = new Date(at);
    },
    advance(ms) {
      current = new Date(current.getTime() + ms);
    },
  };
}

export interface CredentialInput {
  provider: Provider;
  typeOf?: string;
  /** All fields as a client sends them; the hidden ones are sealed, the rest stored as shown. */
  fields: Record<string, unknown>;
  withEnvironment?: boolean;
  /** Write the exchange job with the row (default: yes, except oauth2-google). */
  enqueue?: boolean;
}

export interface Scope {
  organizationId: string;
  projectId: string;
  environmentId: string;
}

export interface EngineOptions {
  leaseMs?: number;
  workerId?: string;
  maxPerSecond?: number;
  concurrency?: number;
  perOrganization?: number;
  perHost?: number;
  /** The engine's clock (default: the bed's clock the test moves). */
  now?: () => Date;
  /** An outbound client with this timeout instead of the bed's short one. */
  timeoutMs?: number;
}

export interface ExchangeBed {
  h: Harness;
  server: TokenServer;
  clock: Clock;
  organizationId: string;
  projectId: string;
  environmentId: string;
  /** Every log line of every engine made by engine(). */
  logs: string[];
  engine(options?: EngineOptions): ExchangeEngine;
  createCredential(input: CredentialInput, scope?: Scope): Promise<string>;
  /** Another organization with a project and an environment, for fairness tests. */
  addOrganization(name: string): Promise<Scope>;
  row(id: string): Promise<CredentialsTable>;
  artifact(id: string): Promise<string | null>;
  refreshToken(id: string): Promise<string | null>;
  job(id: string): Promise<{ kind: string; attempts: number; run_at: string; lease_owner: string | null } | undefined>;
  /** Runs ticks of `engine` until no job is due right now. */
  drain(engine: ExchangeEngine): Promise<void>;
  close(): Promise<void>;
}

export async function createExchangeBed(dialect: DialectName, env: Record<string, string> = {}): Promise<ExchangeBed> {
  const server = await startTokenServer();
  const h = await createHarness(dialect, {
    LATCH_OUTBOUND_ALLOW_HTTP: "1",
    LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
    LATCH_GOOGLE_CLIENT_ID: "google-client-id",
    LATCH_GOOGLE_CLIENT_SECRET: "google-client-secret-CANARY",
    LATCH_GOOGLE_AUTH_URL: `${server.url}/o/oauth2/v2/auth`,
    LATCH_GOOGLE_TOKEN_URL: `${server.url}/google/token`,
    LATCH_PUBLIC_URL: "http://latch.test:8080",
    ...env,
  });
  const clock = createClock();
  const [organization] = await h.context.tree.listOrganizations(ADMIN);
  if (organization === undefined) throw new Error("no bootstrap organization");
  const project = await h.context.tree.createProject(ADMIN, organization.id, {
    name: `edge-${randomUUID().slice(0, 8)}`,
    platform: "edge",
  });
  const environment = await h.context.tree.createEnvironment(ADMIN, project.id, { name: "Dev", mode: "DEVELOPMENT" });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, callback) {
      logs.push(String(chunk));
      callback();
    },
  });
  const logger = createLogger("debug", sink);
  const http = createOutboundClient({
    allowHttp: h.config.outboundAllowHttp,
    allowCidrs: h.config.outboundAllowCidrs,
    timeoutMs: TEST_TIMEOUT_MS,
  });
  const db = h.context.db;
  const keyring = h.context.keyring;

  const bed: ExchangeBed = {
    h,
    server,
    clock,
    organizationId: organization.id,
    projectId: project.id,
    environmentId: environment.id,
    logs,
    engine(options = {}) {
      const { timeoutMs, now, ...rest } = options;
      return createExchangeEngine({
        db,
        dialect,
        keyring,
        config: h.config,
        http:
          timeoutMs === undefined
            ? http
            : createOutboundClient({ allowHttp: h.config.outboundAllowHttp, allowCidrs: h.config.outboundAllowCidrs, timeoutMs }),
        now: now ?? clock.now,
        logger,
        ...rest,
      });
    },
    async addOrganization(name) {
      const created = await h.context.tree.createOrganization(ADMIN, { name, plan: "FREE" });
      const other = await h.context.tree.createProject(ADMIN, created.id, { name: `edge-${randomUUID().slice(0, 8)}`, platform: "edge" });
      const env = await h.context.tree.createEnvironment(ADMIN, other.id, { name: "Dev", mode: "DEVELOPMENT" });
      return { organizationId: created.id, projectId: other.id, environmentId: env.id };
    },
    async createCredential(input, scope) {
      const where = scope ?? { organizationId: organization.id, projectId: project.id, environmentId: environment.id };
      const id = randomUUID();
      const hiddenNames = hiddenFields(input.provider);
      const shown = Object.fromEntries(Object.entries(input.fields).filter(([name]) => !hiddenNames.includes(name)));
      const hidden = Object.fromEntries(Object.entries(input.fields).filter(([name]) => hiddenNames.includes(name)));
      const at = clock.now();
      const name = `cred-${id.slice(0, 8)}`;
      await db.transaction().execute(async (tx) => {
        await tx
          .insertInto("credentials")
          .values({
            id,
            organization_id: where.organizationId,
            project_id: where.projectId,
            environment_id: input.withEnvironment === false ? null : where.environmentId,
            name,
            variable_name: credentialVariableName(name),
            type_of: input.typeOf ?? input.provider,
            provider: input.provider,
            public_credentials: JSON.stringify(shown),
            secret_credentials:
              Object.keys(hidden).length === 0
                ? null
                : await keyring.encrypt(where.organizationId, cipherRef(id, "secret_credentials"), JSON.stringify(hidden), tx),
            artifact: null,
            refresh_token: null,
            status: "pending",
            status_details: null,
            refresh_status: null,
            refresh_status_details: null,
            activated_at: null,
            expires_at: null,
            refresh_at: null,
            authorization_nonce: null,
            authorization_url_expires_at: null,
            generation: 1,
            created_by_name: "tests",
            updated_by_name: "tests",
            created_at: at.toISOString(),
            updated_at: at.toISOString(),
          })
          .execute();
        if (input.enqueue ?? input.provider !== "oauth2-google") {
          await enqueueExchange(
            tx,
            { credentialId: id, organizationId: where.organizationId, kind: "exchange", generation: 1, runAt: at },
            at,
          );
        }
      });
      return id;
    },
    async row(id) {
      return db.selectFrom("credentials").selectAll().where("id", "=", id).executeTakeFirstOrThrow();
    },
    async artifact(id) {
      const row = await bed.row(id);
      return row.artifact === null ? null : keyring.decrypt(row.organization_id, cipherRef(id, "artifact"), row.artifact);
    },
    async refreshToken(id) {
      const row = await bed.row(id);
      return row.refresh_token === null ? null : keyring.decrypt(row.organization_id, cipherRef(id, "refresh_token"), row.refresh_token);
    },
    async job(id) {
      const row = await db
        .selectFrom("credential_jobs")
        .select(["kind", "attempts", "run_at", "lease_owner"])
        .where("credential_id", "=", id)
        .executeTakeFirst();
      return row === undefined ? undefined : { ...row, attempts: Number(row.attempts) };
    },
    async drain(engine) {
      for (let tick = 0; tick < 20; tick += 1) {
        const { ran } = await engine.runOnce();
        if (ran === 0) return;
      }
      throw new Error("jobs kept coming after 20 ticks");
    },
    async close() {
      await h.close();
      await server.close();
    },
  };
  return bed;
}

/** Parsed status_details of a row. */
export function detailsOf(text: string | null): { title: string; detail: string; http_status?: number } {
  if (text === null) throw new Error("no status details");
  return JSON.parse(text) as { title: string; detail: string; http_status?: number };
}
