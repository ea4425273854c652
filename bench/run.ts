// `npm run bench [-- options]`: builds the server, measures the baseline, runs the chosen
// targets, and writes the table into bench/README.md. See bench/README.md for the options.
import { parseArgs } from "node:util";
import { s2 } from "./growth.js";
import { a1, a2 } from "./identity-targets.js";
import { measure } from "./lib/load.js";
import { buildServer, freePort, startProcess } from "./lib/processes.js";
import { renderTable, writeReport } from "./lib/report.js";
import type { Dialect } from "./lib/storage.js";
import { m1 } from "./mixed.js";
import { e1, type Options, type Row, r1, r2, r3, type Suite, s1, w1 } from "./targets.js";
import { p2 } from "./watch.js";
import { p3 } from "./webhooks.js";

const ALL = ["R1", "R2", "R3", "W1", "S1", "E1", "P1", "M1", "S2", "A1", "A2", "P2", "P3"] as const;
type TargetId = (typeof ALL)[number];

const { values } = parseArgs({
  options: {
    only: { type: "string" },
    db: { type: "string", default: "sqlite" },
    duration: { type: "string", default: "10" },
    runs: { type: "string", default: "3" },
    connections: { type: "string", default: "50" },
    warmup: { type: "string" },
    // Unset: the server runs with its defaults, as `npm start` gives (issue #14).
    "log-level": { type: "string" },
    "log-polls": { type: "boolean", default: false },
    "s2-sizes": { type: "string", default: "1000,10000,100000" },
    "pg-url": { type: "string", default: process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:55432/postgres" },
    "s1-services": { type: "string", default: "10000" },
    "s1-per-service": { type: "string", default: "100" },
    "e1-count": { type: "string", default: "10000" },
    "p2-per-service": { type: "string", default: "100" },
    "no-write": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  process.stdout.write(
    [
      "npm run bench -- [--only R1,R2,R3,W1,S1,E1,P1,M1,S2,A1,A2,P2,P3] [--db sqlite|postgres] [--duration 10] [--runs 3]",
      "                 [--connections 50] [--warmup 2] [--log-level <level>] [--log-polls] [--pg-url postgres://…]",
      "                 [--s2-sizes 1000,10000,100000]",
      "                 [--s1-services 10000] [--s1-per-service 100] [--e1-count 10000] [--p2-per-service 100] [--no-write]",
      "",
    ].join("\n"),
  );
  process.exit(0);
}

function positive(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`bench: --${name} must be a positive number\n`);
    process.exit(2);
  }
  return value;
}

const db = values.db as Dialect;
if (db !== "sqlite" && db !== "postgres") {
  process.stderr.write("bench: --db must be sqlite or postgres\n");
  process.exit(2);
}
const selected = (values.only ?? ALL.join(","))
  .split(",")
  .map((item) => item.trim().toUpperCase())
  .filter((item) => item !== "");
for (const item of selected) {
  if (!(ALL as readonly string[]).includes(item)) {
    process.stderr.write(`bench: unknown target ${item}; choose from ${ALL.join(", ")}\n`);
    process.exit(2);
  }
}
const durationS = positive("duration", values.duration);
const options: Options = {
  db,
  durationS,
  runs: Math.round(positive("runs", values.runs)),
  connections: Math.round(positive("connections", values.connections)),
  warmupS: values.warmup === undefined ? Math.min(2, durationS) : Number(values.warmup),
  logLevel: values["log-level"] ?? null,
  logPolls: values["log-polls"] ?? false,
  pgAdminUrl: values["pg-url"] ?? "",
  s1Services: Math.round(positive("s1-services", values["s1-services"])),
  s1PerService: Math.round(positive("s1-per-service", values["s1-per-service"])),
  e1Count: Math.round(positive("e1-count", values["e1-count"])),
};

const log = (line: string) => process.stderr.write(`${line}\n`);
const startedAt = new Date();
log("bench: compiling the server and the helper servers (esbuild)");
const builds = buildServer();

log(`bench: baseline (${options.runs}×${options.durationS}s @${options.connections})`);
const baselinePort = await freePort();
const baselineServer = await startProcess({
  script: builds.baseline,
  args: [String(baselinePort)],
  env: {},
  port: baselinePort,
  readyPath: "/",
});
// The baseline server stays up: every target interleaves its runs with baseline runs.
process.once("exit", () => baselineServer.child.kill("SIGTERM"));
const baselineSpec = { url: `${baselineServer.url}/`, connections: options.connections, durationS: options.durationS };
const baseline = (await measure(baselineSpec, options.runs, options.warmupS)).median;
log(`  baseline ${baseline.rps.toFixed(0)} req/s, p50 ${baseline.p50} ms, p99 ${baseline.p99} ms`);

const suite: Suite = { options, builds, baseline, baselineUrl: `${baselineServer.url}/`, log };
const runners: Record<TargetId, () => Promise<Row[]>> = {
  R1: () => r1(suite, db),
  R2: () => r2(suite, db),
  R3: () => r3(suite, db),
  W1: () => w1(suite, db),
  S1: () => s1(suite, "sqlite"),
  E1: () => e1(suite, db),
  P1: async () => [...(await r1(suite, "postgres", "P1 R1")), ...(await w1(suite, "postgres", "P1 W1"))],
  A1: () => a1(suite, db),
  A2: () => a2(suite, db),
  P2: () => p2(suite, db, Math.round(positive("p2-per-service", values["p2-per-service"]))),
  P3: () => p3(suite, db),
  M1: () => m1(suite, db),
  S2: () =>
    s2(
      suite,
      db,
      (values["s2-sizes"] ?? "").split(",").map((size) => positive("s2-sizes", size)),
    ),
};

const rows: Row[] = [];
for (const id of ALL) {
  if (!selected.includes(id)) continue;
  log(`bench: ${id}`);
  try {
    const produced = await runners[id]();
    for (const row of produced) {
      const r = row.result;
      log(
        `  ${row.id}: ${r === null ? "–" : `${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms`}` +
          `${row.ratio === null ? "" : `, ${(row.ratio * 100).toFixed(1)}% of baseline`} → ${row.verdict} ${row.notes.join("; ")}`,
      );
    }
    rows.push(...produced);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  ${id} failed: ${message}`);
    rows.push({
      id,
      what: "(failed to run)",
      db: id === "P1" ? "postgres" : id === "S1" ? "sqlite" : db,
      connections: options.connections,
      plan: "-",
      result: null,
      ratio: null,
      target: "-",
      verdict: "not measured",
      notes: [message.replace(/\|/g, "/").replace(/\s+/g, " ").slice(0, 300)],
    });
  }
}

await baselineServer.stop();
const command = `npm run bench -- ${process.argv.slice(2).join(" ")}`.trim();
const table = renderTable({ options, baseline, rows, startedAt, command });
process.stdout.write(`${table}\n`);
if (!values["no-write"]) {
  writeReport(table, { startedAt, options, baseline, rows });
  log("bench: wrote bench/README.md and bench/results.json");
}
