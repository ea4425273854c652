// Writes the results table into bench/README.md between two markers, leaving the hand-written
// notes around it alone, and the raw figures into bench/results.json.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { Options, Row } from "../targets.js";
import type { LoadResult } from "./load.js";
import { ROOT } from "./processes.js";

const START = "<!-- results:start -->";
const END = "<!-- results:end -->";

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : "–";
}

export function renderTable(input: { options: Options; baseline: LoadResult; rows: Row[]; startedAt: Date; command: string }): string {
  const { options, baseline, rows } = input;
  const cpu = cpus();
  const lines = [
    `Run of ${input.startedAt.toISOString().slice(0, 16).replace("T", " ")} UTC: \`${input.command}\``,
    "",
    `- machine: ${cpu.length} cores (${cpu[0]?.model.trim() ?? "?"}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB memory; load generator on the same cores`,
    `- Node ${process.version}; database ${options.db} unless the row says otherwise; server log level \`${options.logLevel ?? "info (default)"}\`${options.logPolls ? ", LATCH_LOG_POLLS=on" : ", successful polls not logged (default)"}`,
    `- each figure: median of ${options.runs} runs of ${options.durationS} s (after a ${options.warmupS} s warm-up) unless the row says otherwise`,
    `- baseline (bare Fastify hello-world with a response schema, own process, ${options.connections} connections), first measurement: ` +
      `**${fixed(baseline.rps, 0)} req/s**, p50 ${fixed(baseline.p50, 1)} ms, p99 ${fixed(baseline.p99, 1)} ms. ` +
      "Each target's runs are interleaved with baseline runs of the same length (its notes give that paired baseline); " +
      "× baseline is the median of the per-run ratios",
    "",
    "| id | what | db | conn | runs | req/s | p50 ms | p99 ms | × baseline | target | verdict | notes |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const row of rows) {
    const r = row.result;
    lines.push(
      `| ${row.id} | ${row.what} | ${row.db} | ${row.connections} | ${row.plan} | ${r === null ? "–" : fixed(r.rps, 0)} | ` +
        `${r === null ? "–" : fixed(r.p50, 1)} | ${r === null ? "–" : fixed(r.p99, 1)} | ` +
        `${row.ratio === null ? "–" : `${fixed(row.ratio * 100, 1)}%`} | ${row.target} | **${row.verdict}** | ${row.notes.join("; ")} |`,
    );
  }
  return lines.join("\n");
}

export function writeReport(table: string, raw: unknown): void {
  const readme = join(ROOT, "bench", "README.md");
  const text = existsSync(readme) ? readFileSync(readme, "utf8") : `# Benchmarks\n\n${START}\n${END}\n`;
  const start = text.indexOf(START);
  const end = text.indexOf(END);
  const next =
    start === -1 || end === -1 || end < start
      ? `${text.trimEnd()}\n\n${START}\n${table}\n${END}\n`
      : `${text.slice(0, start + START.length)}\n${table}\n${text.slice(end)}`;
  writeFileSync(readme, next);
  writeFileSync(join(ROOT, "bench", "results.json"), `${JSON.stringify(raw, null, 2)}\n`);
}
