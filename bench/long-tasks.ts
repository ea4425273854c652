// The longest stretches of JavaScript in a CPU profile: runs of consecutive samples that are not
// (idle), (program) or (garbage collector) — the event loop held without a return to it — with,
// for each, the share of its samples under each frame (inclusive). A diagnostic for the
// event-loop delay's max (issue #14, M1): which synchronous work made the long steps.
// Usage: BENCH_KEEP_PROFILE=1 npx tsx bench/profile.ts M1 15   (prints the profile's directory)
//        npx tsx bench/long-tasks.ts <file.cpuprofile> [count=5] [--skip <seconds from the start>]
// Under saturation a stretch can chain several tasks (one phase of the loop running many
// callbacks and their microtasks): it is what the loop could not interrupt, not one request.
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, countArg] = process.argv.slice(2).filter((arg, i, all) => arg !== "--skip" && all[i - 1] !== "--skip");
if (file === undefined) {
  process.stderr.write("usage: tsx bench/long-tasks.ts <file.cpuprofile> [count] [--skip <seconds>]\n");
  process.exit(2);
}
const count = Number(countArg ?? "5");
const skipIndex = process.argv.indexOf("--skip");
const skipUs = skipIndex === -1 ? 0 : Number(process.argv[skipIndex + 1]) * 1e6;

const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
const NOT_JS = new Set(["(idle)", "(program)", "(garbage collector)", "(root)"]);

function frameName(id: number): string {
  const { functionName, url, lineNumber } = (nodes.get(id) as ProfileNode).callFrame;
  return `${functionName || "(anonymous)"} ${url.split("/").slice(-2).join("/")}:${lineNumber + 1}`;
}

interface Stretch {
  start: number;
  end: number;
  samples: number[];
}
const stretches: Stretch[] = [];
let current: Stretch | null = null;
let at = profile.startTime;
profile.samples.forEach((sample, i) => {
  at += profile.timeDeltas[i] ?? 0;
  const js = !NOT_JS.has((nodes.get(sample) as ProfileNode).callFrame.functionName);
  if (js) {
    current ??= { start: at, end: at, samples: [] };
    current.end = at;
    current.samples.push(sample);
  } else if (current !== null) {
    stretches.push(current);
    current = null;
  }
});
if (current !== null) stretches.push(current);

const longest = stretches
  .filter((stretch) => stretch.start - profile.startTime >= skipUs)
  .sort((a, b) => b.end - b.start - (a.end - a.start))
  .slice(0, count);
for (const stretch of longest) {
  const inclusive = new Map<string, number>();
  for (const sample of stretch.samples) {
    const seen = new Set<string>();
    for (let id: number | undefined = sample; id !== undefined; id = parents.get(id)) {
      const name = frameName(id);
      if (name.startsWith("(root)") || seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + 1);
    }
  }
  const ms = (stretch.end - stretch.start) / 1000;
  const from = (stretch.start - profile.startTime) / 1e6;
  process.stdout.write(`--- ${ms.toFixed(1)} ms of JavaScript, ${stretch.samples.length} samples, at +${from.toFixed(2)} s\n`);
  const top = [...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
  for (const [name, n] of top) process.stdout.write(`  ${((100 * n) / stretch.samples.length).toFixed(0).padStart(3)}%  ${name}\n`);
}
