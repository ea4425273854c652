// SIGTERM during load on a real `latch serve`: requests in flight when the signal lands (slow
// test exchanges against a slow token endpoint, uploads still arriving, runtime reads and writes
// from keep-alive clients) complete; nothing answers 5xx; the exchange the worker was running
// finishes; the process exits 0. SQLite: the shutdown path does not depend on the engine.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { fromReactorId } from "../../src/kernel/ids.js";
import { type RunningLatch, startLatch } from "../helpers/process.js";
import { call, createTree, killHard, oauth2SecretBody, secretValue, signalServer, sleep, startRecordingTokenServer } from "./support.js";

const SLOW_MS = 1500;
const LOOPERS = 4;

const cleanup: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const step of cleanup.reverse()) await step();
});

/** A POST whose body arrives in two halves: in flight until the second half is sent. */
function trickle(url: string, token: string, path: string, body: string) {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let response = "";
  socket.on("data", (chunk) => {
    response += String(chunk);
  });
  const closed = new Promise<string>((resolve) => socket.on("close", () => resolve(response)));
  socket.on("error", () => {});
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Token ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 8)}`,
  );
  // The rest is written, not ended: a half-close (FIN) after the body makes Node's HTTP server,
  // which does not allow half-open sockets, abort the request and end the socket before it
  // answers, as for a client that went away. The server's `Connection: close` ends it.
  return { finish: () => socket.write(body.slice(8)), response: closed };
}

describe("graceful shutdown [sqlite]", () => {
  it("SIGTERM under load: in-flight requests complete, no 5xx, the running exchange finishes, exit 0", async () => {
    let slow = false;
    const tokens = await startRecordingTokenServer(() => (slow ? { kind: "ok", delayMs: SLOW_MS } : { kind: "ok" }));
    cleanup.push(() => tokens.close());
    const dir = mkdtempSync(join(tmpdir(), "latch-sigterm-"));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const admin = `sigterm-bootstrap-${randomBytes(16).toString("hex")}`;
    const server: RunningLatch = await startLatch({
      LATCH_DATA_DIR: dir,
      LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
      LATCH_BOOTSTRAP_TOKEN: admin,
      LATCH_OUTBOUND_ALLOW_HTTP: "on",
      LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
    });
    cleanup.push(() => killHard(server.child));
    const tree = await createTree(server.url, admin, "sigterm");

    // A credential that exchanged already, for the slow `test` actions.
    const tested = await call(
      server.url,
      admin,
      "POST",
      `/reactor/properties/${tree.propertyId}/secrets`,
      oauth2SecretBody("tested", "tested-client", `${tokens.url}/token`, tree.reactorEnvironmentId),
    );
    expect(tested.status).toBe(201);
    for (let poll = 0; poll < 200 && tokens.requestsFor("tested-client") === 0; poll += 1) await sleep(25);
    await sleep(200);
    slow = true;

    // Keep-alive clients reading bundles and writing secrets until the server stops answering.
    const statuses: Record<string, number> = {};
    let stopLoad = false;
    let refused = 0;
    const count = (status: number | string) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
    };
    // The bodies of 5xx answers, so a failure says which part answered (the overload refusal's
    // code, a route's error, or Fastify's own drain answer).
    const failures: unknown[] = [];
    const loopers = Array.from({ length: LOOPERS }, async (_, index) => {
      let n = 0;
      while (!stopLoad) {
        try {
          const answer =
            index % 2 === 0
              ? await call(server.url, tree.runtimeToken, "GET", `/v1/runtime/services/${tree.serviceId}`)
              : await call(server.url, admin, "POST", `/qovery/environment/${tree.environmentId}/secret`, {
                  key: `LOAD_${index}_${n++}`,
                  value: secretValue("load"),
                });
          count(answer.status);
          if (answer.status >= 500 && failures.length < 5) failures.push(answer.body);
        } catch {
          // Refused or closed: the server is going away; not an answer.
          refused += 1;
          return;
        }
      }
    });
    await sleep(300);

    // In flight at the signal: three slow test exchanges, two half-sent uploads, and a new
    // credential whose exchange the worker is running.
    const before = tokens.requests.length;
    const testActions = Array.from({ length: 3 }, () =>
      call(server.url, admin, "PATCH", `/reactor/secrets/${tested.body.data.id}`, {
        data: { id: tested.body.data.id, type: "secrets", attributes: { type_of: "oauth2" }, meta: { action: "test" } },
      }),
    );
    const uploads = Array.from({ length: 2 }, (_, i) =>
      trickle(server.url, admin, `/qovery/job/${tree.serviceId}/secret`, JSON.stringify({ key: `UPLOAD_${i}`, value: "up" })),
    );
    const pendingCredential = await call(
      server.url,
      admin,
      "POST",
      `/reactor/properties/${tree.propertyId}/secrets`,
      oauth2SecretBody("in-flight", "in-flight-client", `${tokens.url}/token`, tree.reactorEnvironmentId),
    );
    expect(pendingCredential.status).toBe(201);
    // Wait until the token endpoint holds the three tests and the exchange, and the uploads arrived.
    for (let poll = 0; poll < 400 && tokens.requests.length < before + 4; poll += 1) await sleep(10);
    expect(tokens.requests.length).toBeGreaterThanOrEqual(before + 4);
    // Both uploads' headers were read: two requests on the job's secrets, a path no looper uses
    // (a connection still in the listen backlog at the signal would be reset, not answered).
    const uploadPath = `/qovery/job/${tree.serviceId}/secret`;
    const uploadsSeen = new Set<unknown>();
    await server.waitForLog((line) => {
      if (line.msg === "incoming request" && (line.req as { url?: string })?.url === uploadPath) uploadsSeen.add(line.reqId);
      return uploadsSeen.size >= 2;
    });

    const signalled = performance.now();
    const exit = signalServer(server.child, "SIGTERM");
    await server.waitForLog((line) => /shutting down/.test(String(line.msg)));
    for (const upload of uploads) upload.finish();
    const tests = await Promise.all(testActions);
    const uploaded = await Promise.all(uploads.map((upload) => upload.response));
    stopLoad = true;
    await Promise.all(loopers);
    const code = await exit;
    const took = Math.round(performance.now() - signalled);

    expect(tests.map((answer) => answer.status)).toEqual([200, 200, 200]);
    for (const answer of tests) expect(answer.body.data.meta.test_exchange).toMatchObject({ token_type: "Bearer" });
    for (const raw of uploaded) expect(raw).toMatch(/^HTTP\/1\.1 201 /);
    const serverErrors = Object.keys(statuses).filter((status) => Number(status) >= 500);
    expect(serverErrors, `answers during shutdown: ${JSON.stringify(statuses)}; 5xx bodies: ${JSON.stringify(failures)}`).toEqual([]);
    expect(code).toBe(0);

    // The exchange the worker held when the signal came was finished before the exit.
    const db = new Database(join(dir, "latch.db"), { readonly: true });
    const row = db
      .prepare("SELECT status FROM credentials WHERE id = ?")
      .get(fromReactorId("credential", pendingCredential.body.data.id)) as { status: string };
    const jobs = (db.prepare("SELECT COUNT(*) AS n FROM credential_jobs").get() as { n: number }).n;
    db.close();
    expect(row.status).toBe("succeeded");
    expect(jobs).toBe(0);

    console.log(
      `[sigterm] in flight at SIGTERM: 3 test exchanges (token endpoint ${SLOW_MS} ms) → ${tests.map((t) => t.status).join(", ")}; ` +
        `2 half-sent uploads → ${uploaded.map((raw) => raw.slice(9, 12)).join(", ")}; the worker's exchange → ${row.status}; ` +
        `${LOOPERS} keep-alive clients got ${JSON.stringify(statuses)} then ${refused} refused/closed; exit ${code} after ${took} ms`,
    );
  }, 60_000);
});
