// Soak: N minutes (default 10) of mixed load against one `latch serve` process: runtime bundle
// reads, variable creates and edits, credential creates and deletes exchanged against a local
// token server. The server's RSS is sampled every few seconds; the run passes when the median
// RSS of the last minute is within 10% of the median of the second minute (the first is warm-up)
// and no request failed. Not in CI. With --write, the result goes into bench/README.md (Soak).
//
// Then a noisy-neighbour phase (--noisy-seconds, default 60; 0 skips it): organization A keeps
// creating oauth2 secrets whose token endpoints never answer (40 local endpoints), while
// organization B creates a `token` and an oauth2 secret on a healthy endpoint every half second;
// B's exchange latency (create answered → status succeeded, polled every 50 ms) is reported as
// p50/p99 per type. It passes when each of B's token secrets succeeded within 2 s and each
// oauth2 one within 5 s.
//
//   node_modules/.bin/tsx bench/soak.ts [--minutes 10] [--sample-seconds 5] [--reads-per-second 40] [--noisy-seconds 60] [--write]
//
// SQLite in a temporary data dir; DATABASE_URL=postgres://… runs it on PostgreSQL instead.
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { call, createTree, oauth2SecretBody, secretValue, sleep } from "../test/reliability/support.js";
import { type NoisyResult, noisyNeighbour, noisyRows } from "./lib/noisy-neighbour.js";
import { freePort } from "./lib/processes.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function option(name: string, fallback: number, options: { zero?: boolean } = {}): number {
  const index = process.argv.indexOf(`--${name}`);
  const raw = index === -1 ? undefined : process.argv[index + 1];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && options.zero !== true)) {
    throw new Error(`--${name} expects a positive number`);
  }
  return value;
}

const MINUTES = option("minutes", 10);
const SAMPLE_MS = option("sample-seconds", 5) * 1000;
const WRITE = process.argv.includes("--write");
const READERS = 4;
/**
 * Each reader's pace (requests per second): an open rate, so minute 2 and minute 10 carry the same
 * load whatever else the machine runs, and memory is compared for the same work.
 */
const READS_PER_SECOND = option("reads-per-second", 40);
/** Bounded data: past these counts the writers edit and replace instead of adding. */
const MAX_VARIABLES = 150;
const MAX_CREDENTIALS = 40;
const NOISY_SECONDS = option("noisy-seconds", 60, { zero: true });

/** A token endpoint on 127.0.0.1 that always answers a day-long token. */
async function startTokenEndpoint(): Promise<{ url: string; requests: () => number; close(): void }> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      requests += 1;
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ access_token: `soak-${randomBytes(8).toString("hex")}`, token_type: "Bearer", expires_in: 86400 }));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no token endpoint address");
  return { url: `http://127.0.0.1:${address.port}`, requests: () => requests, close: () => server.close() };
}

/** `latch serve` run by node itself (tsx as a loader), so the pid sampled is the server's. */
async function startServer(env: Record<string, string>): Promise<{ url: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", "serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/tmp",
      LATCH_HOST: "127.0.0.1",
      LATCH_PORT: String(port),
      LATCH_LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`latch exited (${child.exitCode}):\n${stderr}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child };
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`latch did not start:\n${stderr}`);
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "latch-soak-"));
  const admin = `soak-bootstrap-${randomBytes(16).toString("hex")}`;
  const tokens = await startTokenEndpoint();
  const databaseUrl = process.env.DATABASE_URL ?? null;
  const server = await startServer({
    LATCH_DATA_DIR: dir,
    LATCH_ROOT_KEY: randomBytes(32).toString("base64"),
    LATCH_BOOTSTRAP_TOKEN: admin,
    LATCH_OUTBOUND_ALLOW_HTTP: "on",
    LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32",
    ...(databaseUrl === null ? {} : { DATABASE_URL: databaseUrl }),
  });
  const pid = server.child.pid;
  if (pid === undefined) throw new Error("no server pid");
  const tree = await createTree(server.url, admin, "soak");
  const base = server.url;
  const counts = { reads: 0, notModified: 0, variableCreates: 0, variableEdits: 0, credentialCreates: 0, credentialDeletes: 0 };
  const errors: string[] = [];
  const fail = (what: string, detail: string) => {
    if (errors.length < 20) errors.push(`${what}: ${detail}`);
    else errors.push("…");
  };
  const until = Date.now() + MINUTES * 60_000;
  const started = Date.now();
  const samples: Array<{ at: number; rss: number }> = [];

  const sampler = (async () => {
    while (Date.now() < until) {
      samples.push({ at: (Date.now() - started) / 1000, rss: rssMiB(pid) });
      await sleep(SAMPLE_MS);
    }
  })();

  const reader = async () => {
    let etag: string | null = null;
    let next = Date.now();
    while (Date.now() < until) {
      next += 1000 / READS_PER_SECOND;
      if (next > Date.now()) await sleep(next - Date.now());
      try {
        const useEtag = etag !== null && Math.random() < 0.5;
        const response = await fetch(`${base}/v1/runtime/services/${tree.serviceId}`, {
          headers: { authorization: `Token ${tree.runtimeToken}`, ...(useEtag && etag !== null ? { "if-none-match": etag } : {}) },
        });
        await response.arrayBuffer();
        if (response.status === 200) {
          counts.reads += 1;
          etag = response.headers.get("etag");
        } else if (response.status === 304) counts.notModified += 1;
        else fail("bundle read", String(response.status));
      } catch (error) {
        fail("bundle read", String(error));
      }
    }
  };

  const variableWriter = async () => {
    const ids: Array<{ id: string; key: string; secret: boolean }> = [];
    let n = 0;
    while (Date.now() < until) {
      try {
        if (ids.length < MAX_VARIABLES) {
          const secret = n % 2 === 0;
          const key = `SOAK_${n++}`;
          const answer = await call(
            base,
            admin,
            "POST",
            `/qovery/environment/${tree.environmentId}/${secret ? "secret" : "environmentVariable"}`,
            {
              key,
              value: secretValue(key),
            },
          );
          if (answer.status !== 201) fail("variable create", `${answer.status} ${JSON.stringify(answer.body)}`);
          else {
            ids.push({ id: answer.body.id, key, secret });
            counts.variableCreates += 1;
          }
        } else {
          const target = ids[Math.floor(Math.random() * ids.length)] as (typeof ids)[number];
          const path = `/qovery/environment/${tree.environmentId}/${target.secret ? "secret" : "environmentVariable"}/${target.id}`;
          const answer = await call(base, admin, "PUT", path, { key: target.key, value: secretValue(target.key) });
          if (answer.status !== 200) fail("variable edit", `${answer.status} ${JSON.stringify(answer.body)}`);
          else counts.variableEdits += 1;
        }
      } catch (error) {
        fail("variable write", String(error));
      }
      await sleep(20);
    }
  };

  const credentialWriter = async () => {
    const ids: string[] = [];
    let n = 0;
    while (Date.now() < until) {
      try {
        if (ids.length >= MAX_CREDENTIALS) {
          const oldest = ids.shift() as string;
          const answer = await call(base, admin, "DELETE", `/reactor/secrets/${oldest}`);
          if (answer.status !== 204) fail("credential delete", `${answer.status} ${JSON.stringify(answer.body)}`);
          else counts.credentialDeletes += 1;
        }
        const name = `soak-${n++}`;
        const body = oauth2SecretBody(name, `soak-client-${n}`, `${tokens.url}/token`, tree.reactorEnvironmentId);
        const answer = await call(base, admin, "POST", `/reactor/properties/${tree.propertyId}/secrets`, body);
        if (answer.status !== 201) fail("credential create", `${answer.status} ${JSON.stringify(answer.body)}`);
        else {
          ids.push(answer.body.data.id);
          counts.credentialCreates += 1;
        }
      } catch (error) {
        fail("credential write", String(error));
      }
      await sleep(100);
    }
  };

  const progress = setInterval(() => {
    const last = samples.at(-1);
    process.stdout.write(
      `[soak] ${Math.round((Date.now() - started) / 1000)} s: rss ${last?.rss.toFixed(1)} MiB, ${JSON.stringify(counts)}, errors ${errors.length}\n`,
    );
  }, 30_000);
  await Promise.all([sampler, variableWriter(), credentialWriter(), ...Array.from({ length: READERS }, () => reader())]);
  clearInterval(progress);

  let noisy: NoisyResult | null = null;
  if (NOISY_SECONDS > 0) {
    process.stdout.write(`[soak] noisy-neighbour phase: ${NOISY_SECONDS} s\n`);
    try {
      noisy = await noisyNeighbour(NOISY_SECONDS, base, admin, tree, tokens.url);
    } catch (error) {
      fail("noisy-neighbour phase", String(error));
    }
  }

  // Every credential created must have been exchanged: the engine kept up.
  const listed = await call(base, admin, "GET", `/reactor/properties/${tree.propertyId}/secrets?page[size]=100`);
  const statuses: Record<string, number> = {};
  for (const row of (listed.body?.data ?? []) as Array<{ attributes: { status: string } }>) {
    statuses[row.attributes.status] = (statuses[row.attributes.status] ?? 0) + 1;
  }
  server.child.kill("SIGTERM");
  const [code] = (await once(server.child, "exit")) as [number | null];
  tokens.close();
  rmSync(dir, { recursive: true, force: true });

  const seconds = (Date.now() - started) / 1000;
  const second = samples.filter((s) => s.at >= 60 && s.at < 120).map((s) => s.rss);
  const lastMinute = samples.filter((s) => s.at >= seconds - 60).map((s) => s.rss);
  const early = median(second.length > 0 ? second : samples.slice(0, Math.max(1, Math.floor(samples.length / 4))).map((s) => s.rss));
  const late = median(lastMinute);
  const growth = ((late - early) / early) * 100;
  const peak = Math.max(...samples.map((s) => s.rss));
  const total =
    counts.reads + counts.notModified + counts.variableCreates + counts.variableEdits + counts.credentialCreates + counts.credentialDeletes;
  const flat = Math.abs(growth) <= 10;
  const passed = flat && errors.length === 0 && code === 0 && (NOISY_SECONDS === 0 || noisy?.passed === true);
  const summary = {
    minutes: MINUTES,
    database: databaseUrl === null ? "sqlite" : "postgres",
    requests: total,
    requestsPerSecond: Math.round(total / seconds),
    ...counts,
    tokenRequests: tokens.requests(),
    credentialStatuses: statuses,
    errors: errors.length,
    rssSecondMinuteMedianMiB: Number(early.toFixed(1)),
    rssLastMinuteMedianMiB: Number(late.toFixed(1)),
    rssGrowthPercent: Number(growth.toFixed(1)),
    rssPeakMiB: Number(peak.toFixed(1)),
    samples: samples.length,
    exitCode: code,
    noisyNeighbour: noisy,
    passed,
  };
  console.log(JSON.stringify(summary, null, 2));
  if (errors.length > 0) console.log(errors.join("\n"));
  if (WRITE) writeReadme(summary);
  process.exitCode = passed ? 0 : 1;
}

/** Replaces (or appends) the Soak section of bench/README.md; the rest of the file is left as is. */
function writeReadme(summary: Record<string, unknown>): void {
  const file = join(ROOT, "bench", "README.md");
  const text = readFileSync(file, "utf8");
  const s = summary as Record<string, number | string | boolean | Record<string, number>>;
  const section = [
    "## Soak",
    "",
    "`node_modules/.bin/tsx bench/soak.ts --minutes 10 --write` (not in CI): one `latch serve` process on",
    `${s.database === "sqlite" ? "SQLite" : "PostgreSQL"} under mixed load for ${s.minutes} minutes: ${READERS} clients reading the runtime bundle at ${READS_PER_SECOND}/s each`,
    `(half with If-None-Match), one creating variables (secrets and plain, up to ${MAX_VARIABLES}) then editing them every 20 ms, one creating`,
    `oauth2 credentials exchanged against a local token endpoint (past ${MAX_CREDENTIALS} it deletes the oldest first).`,
    "RSS of the server process is sampled every few seconds; the check compares the median of the last",
    "minute with the median of the second minute (the first is warm-up).",
    "",
    "| measure | value |",
    "|---|---|",
    `| requests | ${s.requests} (${s.requestsPerSecond}/s): ${s.reads} bundle reads + ${s.notModified} 304, ${s.variableCreates} variable creates, ${s.variableEdits} edits, ${s.credentialCreates} credential creates, ${s.credentialDeletes} deletes |`,
    `| token endpoint requests | ${s.tokenRequests}; credentials at the end: ${JSON.stringify(s.credentialStatuses)} |`,
    `| errors | ${s.errors} |`,
    `| RSS, median of minute 2 | ${s.rssSecondMinuteMedianMiB} MiB |`,
    `| RSS, median of the last minute | ${s.rssLastMinuteMedianMiB} MiB (${Number(s.rssGrowthPercent) >= 0 ? "+" : ""}${s.rssGrowthPercent}%) |`,
    `| RSS peak | ${s.rssPeakMiB} MiB (${s.samples} samples) |`,
    `| exit on SIGTERM | ${s.exitCode} |`,
    ...noisyRows(summary.noisyNeighbour as NoisyResult | null),
    `| result | ${s.passed ? "pass: memory flat within 10%, zero errors" : "FAIL"} |`,
    "",
    `Measured ${new Date().toISOString().slice(0, 10)} on the shared 2-core CI machine, with other work running.`,
    "",
  ].join("\n");
  const start = text.indexOf("\n## Soak\n");
  let next: string;
  if (start === -1) next = `${text.replace(/\n*$/, "\n")}\n${section}`;
  else {
    const after = text.indexOf("\n## ", start + 1);
    next = `${text.slice(0, start + 1)}${section}${after === -1 ? "" : text.slice(after + 1)}`;
  }
  writeFileSync(file, next);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
