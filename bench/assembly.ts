// The bundle worker's assembly at M1's shape, in one process (issue #14, round of 2026-12-07
// 10:05 in bench/README.md): 10 services of one environment, each bundle assembled in full
// (`assembleBundle`) against the same 10 in one batch sharing their environment's resolution
// (`createBundleAssembler`), and one build alone on the shared path (which the worker does not
// take). Synthetic layers, no database: 400 project, 300 environment and 50 own secrets a service,
// times the scale.
// Usage: tsx bench/assembly.ts [scale]
import { assembleBundle, type BundleService, createBundleAssembler } from "../src/modules/runtime/bundle-assembly.js";
import type { LayerContent } from "../src/modules/runtime/layer-snapshot.js";
import type { VariableScope } from "../src/modules/variables/variable-types.js";
import type { LayerRow } from "../src/modules/variables/variables-service.js";

const scale = Math.max(1, Number(process.argv[2] ?? "1") || 1);
const PROJECT = "p1";
const ENVIRONMENT = "e1";
let made = 0;

// One object literal, the shape layer-snapshot.ts's unpack gives the worker: rows built by spreading
// a helper's object (as test/helpers/resolution-rows.ts does) resolve about three times slower,
// so they would not measure what the worker does.
function row(key: string, scope: VariableScope, environmentId: string | null, serviceId: string | null): LayerRow {
  made += 1;
  return {
    id: `id${String(made).padStart(8, "0")}`,
    key,
    value: `v-${key}-${Math.random().toString(36).slice(2, 14)}`,
    variableType: "VALUE",
    isSecret: true,
    mountPath: null,
    enableInterpolationInFile: null,
    parentId: null,
    parentKey: null,
    projectId: PROJECT,
    environmentId,
    serviceId,
    scope,
    builtInVisibility: null,
    producerServiceId: null,
    cipher: null,
  };
}

const project: LayerContent = {
  variables: Array.from({ length: 400 * scale }, (_, i) => row(`M1_P_${i}`, "PROJECT", null, null)),
  credentials: [],
};
const environment: LayerContent = {
  variables: Array.from({ length: 300 * scale }, (_, i) => row(`M1_E_${i}`, "ENVIRONMENT", ENVIRONMENT, null)),
  credentials: [],
};
const services = Array.from({ length: 10 }, (_, s) => {
  const service: BundleService = { id: `s${s}`, name: `service-${s}`, type: "APPLICATION", projectId: PROJECT, environmentId: ENVIRONMENT };
  const own: LayerContent = {
    variables: Array.from({ length: 50 * scale }, (_, i) => row(`M1_S_${i}`, "APPLICATION", ENVIRONMENT, service.id)),
    credentials: [],
  };
  return { service, layers: [project, environment, own] as const };
});

const rounds = Math.ceil(300 / scale);
const perBundle = (started: bigint, bundles: number) => (Number(process.hrtime.bigint() - started) / 1e3 / bundles).toFixed(1);
for (let repetition = 0; repetition < 3; repetition += 1) {
  let started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r += 1) for (const { service, layers } of services) assembleBundle(service, layers, 0);
  const full = perBundle(started, rounds * services.length);
  started = process.hrtime.bigint();
  for (let r = 0; r < rounds; r += 1) {
    const assemble = createBundleAssembler();
    for (const { service, layers } of services) assemble(service, layers, 0, services.length);
  }
  const shared = perBundle(started, rounds * services.length);
  const [first] = services;
  started = process.hrtime.bigint();
  for (let r = 0; r < rounds * services.length && first !== undefined; r += 1) createBundleAssembler()(first.service, first.layers, 0, 2);
  const alone = perBundle(started, rounds * services.length);
  process.stdout.write(
    `scale ${scale}: full ${full} µs a bundle; shared by 10: ${shared} µs a bundle; one alone, shared path: ${alone} µs\n`,
  );
}
