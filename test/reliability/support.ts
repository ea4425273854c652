// Shared parts of the reliability suites: a seeded random source (the seed is printed so a
// failure can be replayed), plain HTTP calls to a server process, a tree built through the
// faces, and a token endpoint that records, per client_id, how many requests are open at once.
import { type ChildProcess, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Database from "better-sqlite3";
import { buildConnector } from "undici";
import { fromReactorId } from "../../src/kernel/ids.js";
import type { Connector } from "../../src/modules/outbound/outbound-client.js";

/** mulberry32: small, fast and good enough to pick kill moments and fault kinds. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** LATCH_RELIABILITY_SEED replays a run; otherwise a fresh seed. */
export function pickSeed(): number {
  const given = process.env.LATCH_RELIABILITY_SEED;
  return given !== undefined && /^\d+$/.test(given) ? Number(given) : randomBytes(4).readUInt32BE(0);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function secretValue(label: string): string {
  return `rel-${label}-${randomBytes(9).toString("hex")}`;
}

export interface Answer {
  status: number;
  body: any;
  requestId: string | null;
}

/** One request to a server process; throws on a network error (refused, reset, timeout). */
export async function call(
  baseUrl: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  options: { timeoutMs?: number } = {},
): Promise<Answer> {
  const reactor = path.startsWith("/reactor");
  const type = reactor ? "application/vnd.api+json" : "application/json";
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: {
      authorization: `${reactor ? "Bearer" : "Token"} ${token}`,
      accept: type,
      ...(body === undefined ? {} : { "content-type": type }),
      ...(reactor ? { "x-api-key": "Activation-DTM" } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
  });
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== "") {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  return { status: response.status, body: parsed, requestId: response.headers.get("x-request-id") };
}

/** Like call(), but a non-2xx answer throws with the body (set-up steps). */
export async function must(baseUrl: string, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const answer = await call(baseUrl, token, method, path, body);
  if (answer.status < 200 || answer.status >= 300) {
    throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  return answer.body;
}

export interface Tree {
  organizationId: string;
  companyId: string;
  propertyId: string;
  reactorEnvironmentId: string;
  environmentId: string;
  serviceId: string;
  runtimeToken: string;
}

/** A Reactor property → host → environment, a Qovery job in it, and a runtime token for the job. */
export async function createTree(baseUrl: string, token: string, label = "rel"): Promise<Tree> {
  const organizationId = (await must(baseUrl, token, "GET", "/qovery/organization")).results[0].id as string;
  const companyId = (await must(baseUrl, token, "GET", "/reactor/companies")).data[0].id as string;
  const property = await must(baseUrl, token, "POST", `/reactor/companies/${companyId}/properties`, {
    data: { type: "properties", attributes: { name: `${label} ${randomBytes(3).toString("hex")}`, platform: "edge" } },
  });
  const host = await must(baseUrl, token, "POST", `/reactor/properties/${property.data.id}/hosts`, {
    data: { type: "hosts", attributes: { name: "Managed by Adobe", type_of: "akamai" } },
  });
  const environment = await must(baseUrl, token, "POST", `/reactor/properties/${property.data.id}/environments`, {
    data: {
      type: "environments",
      attributes: { name: `${label} env`, stage: "production" },
      relationships: { host: { data: { id: host.data.id, type: "hosts" } } },
    },
  });
  const environmentId = fromReactorId("environment", environment.data.id as string);
  if (environmentId === null) throw new Error(`not an environment id: ${environment.data.id}`);
  const job = await must(baseUrl, token, "POST", `/qovery/environment/${environmentId}/job`, { name: `${label}-job`, healthchecks: {} });
  const runtime = await must(baseUrl, token, "POST", "/v1/tokens", {
    name: `${label} runtime`,
    role: "runtime",
    organization_id: organizationId,
    service_id: job.id,
  });
  return {
    organizationId,
    companyId,
    propertyId: property.data.id,
    reactorEnvironmentId: environment.data.id,
    environmentId,
    serviceId: job.id,
    runtimeToken: runtime.token,
  };
}

/** The body of POST /reactor/properties/{id}/secrets for an oauth2 credential in the environment. */
export function oauth2SecretBody(name: string, clientId: string, tokenUrl: string, reactorEnvironmentId: string, extra = {}) {
  return {
    data: {
      type: "secrets",
      attributes: {
        name,
        type_of: "oauth2",
        credentials: { client_id: clientId, client_secret: secretValue("client-secret"), token_url: tokenUrl, ...extra },
      },
      relationships: { environment: { data: { id: reactorEnvironmentId, type: "environments" } } },
    },
  };
}

/** PRAGMA integrity_check of a SQLite file (opened by this process, the server being down or not). */
export function sqliteIntegrity(file: string): string {
  const db = new Database(file);
  try {
    return (db.pragma("integrity_check", { simple: true }) as string) ?? "";
  } finally {
    db.close();
  }
}

export type Reply =
  | { kind: "ok"; expiresIn?: number; delayMs?: number }
  | { kind: "status"; status: number; delayMs?: number }
  | { kind: "non-json" }
  | { kind: "hang" };

export interface TokenRequest {
  clientId: string;
  grantType: string;
  /** 1 for the first request of this client_id. */
  attempt: number;
}

export interface RecordingTokenServer {
  url: string;
  requests: TokenRequest[];
  /** Access tokens answered with a 200, per client_id. */
  issued: Map<string, string[]>;
  /** One line per request that arrived while another of its client_id was open, saying which. */
  overlaps: string[];
  /** Requests counted over when the next one arrived, their client having closed them unseen (see below). */
  readonly lateCloses: number;
  requestsFor(clientId: string): number;
  close(): Promise<void>;
}

/**
 * The client side of outbound connections, for a client in this process: undici's connector,
 * wrapped to remember each socket it opens by its local port.
 */
export interface ClientSockets {
  connector: Connector;
  byPort(port: number): Socket | undefined;
}

export function trackClientSockets(timeoutMs: number): ClientSockets {
  const base = buildConnector({ timeout: timeoutMs });
  const sockets = new Map<number, Socket>();
  return {
    connector(options, callback) {
      base(options, (error, socket) => {
        // undici passes no socket at all when the connect fails.
        if (error !== null || socket == null) {
          callback(error ?? new Error("the connector gave no socket"), null);
          return;
        }
        // Kept after it closes (until its port is reused): a request the server reads after the
        // client closed its connection must still find it, destroyed.
        if (socket.localPort !== undefined) sockets.set(socket.localPort, socket);
        callback(null, socket);
      });
    },
    byPort: (port) => sockets.get(port),
  };
}

interface OpenRequest {
  attempt: number;
  kind: Reply["kind"];
  arrivedAt: number;
  /** The client's end of the connection, when the client runs in this process (ClientSockets). */
  clientSocket: Socket | undefined;
  settle(): void;
}

/**
 * A token endpoint on 127.0.0.1 whose answer per request the test decides. A request counts as
 * open from its arrival until its answer is sent or its connection closes (a client that gave up
 * on a hang), so overlapping exchanges of one credential are caught.
 *
 * A client that gives up closes its connection at once, but the close reaches this server an
 * event-loop turn or more later, possibly after the client's next request. With `clientSockets`
 * (a client in this process that connects through `trackClientSockets`), a request whose client
 * end is already destroyed counts as over when the next one arrives, so only a request the
 * client still held open makes an overlap.
 */
export async function startRecordingTokenServer(
  decide: (request: TokenRequest) => Reply,
  options: { clientSockets?: ClientSockets } = {},
): Promise<RecordingTokenServer> {
  const requests: TokenRequest[] = [];
  const issued = new Map<string, string[]>();
  const open = new Map<string, Set<OpenRequest>>();
  const counts = new Map<string, number>();
  const overlaps: string[] = [];
  let lateCloses = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((request, response) => {
    let text = "";
    request.on("data", (chunk) => {
      text += String(chunk);
    });
    request.on("end", () => {
      const form = new URLSearchParams(text);
      const clientId = form.get("client_id") ?? "";
      const attempt = (counts.get(clientId) ?? 0) + 1;
      counts.set(clientId, attempt);
      const recorded = { clientId, grantType: form.get("grant_type") ?? "", attempt };
      requests.push(recorded);
      const reply = decide(recorded);
      const mine = open.get(clientId) ?? new Set<OpenRequest>();
      open.set(clientId, mine);
      const arrivedAt = performance.now();
      for (const earlier of mine) {
        if (earlier.clientSocket?.destroyed === true) {
          earlier.settle();
          lateCloses += 1;
          continue;
        }
        const client = earlier.clientSocket === undefined ? "not tracked" : "still open";
        overlaps.push(
          `${clientId}: attempt ${attempt} arrived while attempt ${earlier.attempt} (${earlier.kind}, ` +
            `${Math.round(arrivedAt - earlier.arrivedAt)} ms earlier, client connection ${client}) was open`,
        );
      }
      const port = request.socket.remotePort;
      const self: OpenRequest = {
        attempt,
        kind: reply.kind,
        arrivedAt,
        clientSocket: port === undefined ? undefined : options.clientSockets?.byPort(port),
        settle: () => mine.delete(self),
      };
      mine.add(self);
      response.on("close", self.settle);
      const answer = () => {
        if (response.destroyed) return;
        self.settle();
        if (reply.kind === "ok") {
          const accessToken = `at-${clientId}-${attempt}-${randomBytes(6).toString("hex")}`;
          const list = issued.get(clientId) ?? [];
          list.push(accessToken);
          issued.set(clientId, list);
          response
            .writeHead(200, { "content-type": "application/json" })
            .end(JSON.stringify({ access_token: accessToken, token_type: "Bearer", expires_in: reply.expiresIn ?? 86400 }));
        } else if (reply.kind === "status") {
          response
            .writeHead(reply.status, { "content-type": "application/json" })
            .end(JSON.stringify({ error: "temporarily_unavailable" }));
        } else if (reply.kind === "non-json") {
          response.writeHead(200, { "content-type": "text/html" }).end("<html>maintenance</html>");
        }
      };
      if (reply.kind === "hang") return;
      const delay = "delayMs" in reply ? (reply.delayMs ?? 0) : 0;
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    issued,
    overlaps,
    get lateCloses() {
      return lateCloses;
    },
    requestsFor: (clientId) => counts.get(clientId) ?? 0,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The process ids under `pid` (tsx runs the server in a child node process). */
function descendants(pid: number): number[] {
  let listed: string;
  try {
    listed = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8");
  } catch {
    // Kernels without that file: ask ps.
    listed = spawnSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).stdout ?? "";
  }
  const children = listed.trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((child) => [child, ...descendants(child)]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGKILL for a server started through tsx: the signal cannot be relayed, so the node process
 * that runs the server is killed by its own id, then tsx. Resolves once both are gone.
 */
export async function killHard(child: ChildProcess): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  const below = descendants(pid);
  for (const one of below) process.kill(one, "SIGKILL");
  child.kill("SIGKILL");
  await exited;
  while (below.some(alive)) await sleep(5);
}

/**
 * Sends a signal to the node process that runs the server, not to tsx: tsx relays a signal only
 * if the child acknowledges it within 30 ms, and SIGKILLs a child busy under load (exit 143).
 * Resolves with the exit code of tsx, which is the server's.
 */
export async function signalServer(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null) return child.exitCode;
  const exited = once(child, "exit") as Promise<[number | null]>;
  const target = descendants(pid)[0] ?? pid;
  process.kill(target, signal);
  const [code] = await exited;
  return code;
}
