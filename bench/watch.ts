// P2 (issue #19): 10,000 watches held at once on one server (100 services × 100 watches), then
// one write to an environment variable all 100 services see. Measured: every watch answered 200
// with the new bundle, the time from the write to each answer (p50, p99, max), the server's RSS
// with the 10,000 watches idle, and errors. The watches are held by several client processes
// (one process's descriptors would not suffice), opened in ramps. `--db postgres` runs two server
// processes on one database, 5,000 watches each, and the write goes through the first: the
// second hears of it through LISTEN/NOTIFY.
import { type ChildProcess, fork } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, ROOT, type Running, rssMb, sleep, startProcess } from "./lib/processes.js";
import { type Dialect, freshStorage } from "./lib/storage.js";
import { createBenchToken, openBench } from "./seed.js";
import { type Row, type Suite, startLatch } from "./targets.js";
import type { Answer } from "./watch-client.js";

const SERVICES = 100;
const CLIENTS = 4;
const WAIT_S = 120;

interface Fixture {
  environmentId: string;
  services: Array<{ id: string; token: string }>;
}

/** CPU ticks (user + system) the process has used. */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

/** Resolves once the process used under 3 ticks (30 ms) in a second: its watches are parked. */
async function untilIdle(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = cpuTicks(pid);
  while (Date.now() < deadline) {
    await sleep(1000);
    const ticks = cpuTicks(pid);
    if (ticks - last < 3) return;
    last = ticks;
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function startClient(): Promise<ChildProcess> {
  const child = fork(join(ROOT, "bench", "watch-client.ts"), [], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`watch client exited with ${code}`)));
  });
  return child;
}

export async function p2(suite: Suite, db: Dialect, PER_SERVICE = 100): Promise<Row[]> {
  const storage = await freshStorage(db, suite.options.pgAdminUrl);
  const servers: Running[] = [];
  const clients: ChildProcess[] = [];
  try {
    const bench = await openBench(storage);
    let fixture: Fixture;
    try {
      const { context, admin, organizationId } = bench;
      const project = await context.tree.createProject(admin, organizationId, { name: "p2-project" });
      const environment = await context.tree.createEnvironment(admin, project.id, { name: "p2-env", mode: "PRODUCTION" });
      await context.variables.create(
        admin,
        { scope: "ENVIRONMENT", id: environment.id },
        { key: "SHARED", value: "before", isSecret: true },
      );
      const services = [];
      for (let i = 0; i < SERVICES; i += 1) {
        const service = await context.tree.createService(admin, environment.id, "APPLICATION", { name: `p2-service-${i}`, spec: {} });
        const token = await createBenchToken(bench, { name: `p2-runtime-${i}`, role: "runtime", serviceId: service.id });
        services.push({ id: service.id, token });
      }
      fixture = { environmentId: environment.id, services };
    } finally {
      await bench.close();
    }
    const replicas = db === "postgres" ? 2 : 1;
    const env = {
      LATCH_WATCH_MAX: String(SERVICES * PER_SERVICE),
      LATCH_WATCH_MAX_PER_ORGANIZATION: String(SERVICES * PER_SERVICE),
      LATCH_WATCH_MAX_PER_TOKEN: String(PER_SERVICE),
      LATCH_LOG_LEVEL: suite.options.logLevel ?? "warn",
    };
    // BENCH_P2_PROFILE=<dir>: a CPU profile of each server, written when it stops.
    const profile = process.env.BENCH_P2_PROFILE;
    for (let i = 0; i < replicas; i += 1) {
      if (profile === undefined) servers.push(await startLatch(suite, storage, env));
      else {
        const port = await freePort();
        servers.push(
          await startProcess({
            script: suite.builds.main,
            args: ["serve"],
            nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profile}`],
            env: { ...storage.env, LATCH_HOST: "127.0.0.1", LATCH_PORT: String(port), LATCH_WORKERS: "off", ...env },
            port,
            readyPath: "/readyz",
          }),
        );
      }
    }
    const first = servers[0] as Running;

    const targets: Array<{ serviceId: string; token: string; etag: string }> = [];
    for (const service of fixture.services) {
      const response = await fetch(`${first.url}/v1/runtime/services/${service.id}`, {
        headers: { authorization: `Token ${service.token}` },
      });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`bundle of ${service.id}: ${response.status}`);
      const etag = response.headers.get("etag") ?? "";
      for (let i = 0; i < PER_SERVICE; i += 1) targets.push({ serviceId: service.id, token: service.token, etag });
    }

    for (let i = 0; i < CLIENTS; i += 1) clients.push(await startClient());
    const sent = clients.map((client) => once(client, "message"));
    const done = clients.map(
      (client) =>
        new Promise<Answer[]>((resolve) => {
          client.on("message", (message: { type: string; answers?: Answer[] }) => {
            if (message.type === "done") resolve(message.answers ?? []);
          });
        }),
    );
    const setupStarted = performance.now();
    clients.forEach((client, index) => {
      // Each client holds a share of every service's watches, on one server (replicas alternate).
      const server = servers[index % servers.length] as Running;
      const share = targets.filter((_, n) => n % CLIENTS === index);
      client.send({ type: "start", url: server.url, targets: share, waitS: WAIT_S, rampSize: 100, rampGapMs: 20 });
    });
    await Promise.all(sent);
    for (const server of servers) await untilIdle(server.pid, 60_000);
    const setupS = (performance.now() - setupStarted) / 1000;
    const rss = servers.map((server) => rssMb(server.pid) ?? Number.NaN);
    suite.log(`  ${targets.length} watches open in ${setupS.toFixed(1)} s; server RSS ${rss.map((mb) => mb.toFixed(0)).join(" + ")} MB`);

    for (const client of clients) client.send({ type: "mark" });
    await sleep(200);
    // CPU (user + system, ticks of 10 ms) of the server(s) and the clients over the wake, until the
    // clients reported (their IPC report included): where the time goes.
    const cpuOf = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuTicks(pid), 0);
    const serverPids = servers.map((server) => server.pid);
    const clientPids = clients.map((client) => client.pid ?? 0);
    const cpuBefore = [cpuOf(serverPids), cpuOf(clientPids)];
    const writeStarted = performance.timeOrigin + performance.now();
    const write = await fetch(`${first.url}/qovery/environment/${fixture.environmentId}/environmentVariable`, {
      method: "POST",
      headers: { authorization: `Token ${storage.bootstrapToken}`, "content-type": "application/json" },
      body: JSON.stringify({ key: "ADDED", value: "after" }),
    });
    await write.arrayBuffer();
    const writeAnswered = performance.timeOrigin + performance.now();
    if (write.status !== 201) throw new Error(`the write answered ${write.status}`);
    let answers = (await Promise.race([Promise.all(done), sleep(60_000).then(() => null)]))?.flat();
    let unanswered = 0;
    if (answers === undefined) {
      // Not all answered within 60 s: count what was, and the rest as errors.
      const partial = clients.map(
        (client) => new Promise<Answer[]>((resolve) => client.once("message", (m: { answers?: Answer[] }) => resolve(m.answers ?? []))),
      );
      for (const client of clients) client.send({ type: "report" });
      answers = (await Promise.all(partial)).flat();
      unanswered = targets.length - answers.length;
    }
    const cpuWake = [cpuOf(serverPids) - (cpuBefore[0] ?? 0), cpuOf(clientPids) - (cpuBefore[1] ?? 0)].map((ticks) => ticks * 10);
    const early = answers.filter((answer) => answer.early).length;
    const errors = unanswered + answers.filter((answer) => answer.error !== null || (answer.status !== 200 && !answer.early)).length;
    const byStatus = new Map<string, number>();
    for (const answer of answers) {
      const key = answer.error ?? String(answer.status);
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
    }
    const changed = answers.filter((answer) => !answer.early && answer.status === 200 && answer.changed).length;
    // From the write's request (an upper bound: its commit is somewhere before its answer).
    const latencies = answers
      .filter((answer) => !answer.early && answer.status === 200)
      .map((answer) => answer.at - writeStarted)
      .sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const max = latencies[latencies.length - 1] ?? Number.NaN;
    const targetP99 = db === "postgres" ? 2000 : 1000;
    const rssTotal = rss.reduce((a, b) => a + b, 0);
    const met = changed === targets.length && errors === 0 && p99 <= targetP99 && (db === "postgres" || rssTotal <= 400);
    return [
      {
        id: db === "postgres" ? "P2 (pg, 2 replicas)" : "P2",
        what: `${targets.length} watches (${SERVICES} services × ${PER_SERVICE}${replicas > 1 ? `, ${targets.length / replicas} per replica` : ""}), one environment write`,
        db,
        connections: targets.length,
        plan: "1 write",
        result: { rps: 0, p50: Math.round(p50), p99: Math.round(p99), ok: changed, non2xx: answers.length - changed - errors, errors },
        ratio: null,
        target: `all answered, p99 ≤ ${targetP99 / 1000} s${db === "postgres" ? "" : ", RSS ≤ 400 MB"}, 0 errors`,
        verdict: met ? "met" : "missed",
        notes: [
          `${changed}/${targets.length} answered 200 with the new bundle`,
          `after the write's request: p50 ${p50.toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${max.toFixed(0)} ms (its own answer came ${(writeAnswered - writeStarted).toFixed(0)} ms after it was sent)`,
          `CPU from the write until the clients reported (their report included): server ${cpuWake[0]} ms, clients ${cpuWake[1]} ms`,
          `server RSS with the watches idle: ${rss.map((mb) => `${mb.toFixed(0)} MB`).join(" + ")}`,
          `${errors} errors (${unanswered} unanswered after 60 s), ${early} answered before the write; answers by status: ${[...byStatus].map(([k, v]) => `${k}×${v}`).join(", ")}`,
          `set-up: ${setupS.toFixed(1)} s to open the watches from ${CLIENTS} client processes`,
        ],
      },
    ];
  } finally {
    for (const client of clients) {
      if (client.connected) client.send({ type: "exit" });
      client.kill("SIGTERM");
    }
    for (const server of servers) await server.stop();
    await storage.drop();
  }
}
