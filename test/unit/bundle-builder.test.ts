// The bundle builder (src/modules/runtime/bundle-builder.ts): bundles assembled in the bundle
// worker, off the event loop, are the same bytes as those assembled on it; builds asked while
// the worker stops are assembled on the event loop, none lost; a snapshot opened under the wrong
// generation is refused there as here, and the refusal names no value.
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { assembleBundle, type BundleService } from "../../src/modules/runtime/bundle-assembly.js";
import { type BundleBuilder, createBundleBuilder, MAX_BATCH } from "../../src/modules/runtime/bundle-builder.js";
import { type LayerContent, type SealedLayer, sealLayer } from "../../src/modules/runtime/layer-snapshot.js";
import type { LayerRow } from "../../src/modules/variables/variables-service.js";
import { layerRow } from "../helpers/resolution-rows.js";

const key = randomBytes(32);
const MOMENT = Date.parse("2026-12-06T00:00:00Z");
const now = () => new Date(MOMENT);

function row(
  id: string,
  key: string,
  value: string,
  at: { projectId: string; environmentId: string | null; serviceId: string | null },
): LayerRow {
  const scope = at.serviceId !== null ? "APPLICATION" : at.environmentId !== null ? "ENVIRONMENT" : "PROJECT";
  return layerRow({ id, key, value, isSecret: true, ...at, scope });
}

function sealed(id: string, generation: string, content: LayerContent): SealedLayer {
  return { id, generation, sealed: sealLayer(key, id, generation, content) };
}

/** A project of `count` variables, an environment of `count` (one referring to a project value), and a service's own. */
function fixture(serviceIndex: number, count: number) {
  const at = { projectId: "p1", environmentId: "e1", serviceId: `s${serviceIndex}` };
  const project: LayerContent = {
    variables: Array.from({ length: count }, (_, i) =>
      row(`p${i}`, `P_${i}`, `project-value-${i}`, { ...at, environmentId: null, serviceId: null }),
    ),
    credentials: [],
  };
  const environment: LayerContent = {
    variables: [
      ...Array.from({ length: count }, (_, i) => row(`e${i}`, `E_${i}`, `environment-value-${i}`, { ...at, serviceId: null })),
      row("ref", "REF", "{{P_0}}-and-{{E_1}}", { ...at, serviceId: null }),
    ],
    credentials: [],
  };
  const own: LayerContent = { variables: [row(`o${serviceIndex}`, "OWN", `own-value-${serviceIndex}`, at)], credentials: [] };
  const service: BundleService = { id: at.serviceId, name: `svc-${serviceIndex}`, type: "JOB", projectId: "p1", environmentId: "e1" };
  return {
    service,
    contents: [project, environment, own] as const,
    layers: [
      sealed("project:p1", "3", project),
      sealed("environment:e1", "7", environment),
      sealed(`service:${at.serviceId}`, "1", own),
    ] as const,
  };
}

let builder: BundleBuilder | null = null;
afterEach(async () => {
  await builder?.close();
  builder = null;
});

/** A builder whose worker is running: its first build starts it (assembled here meanwhile). */
async function withWorker(): Promise<BundleBuilder> {
  const started = createBundleBuilder({ snapshotKey: key, now });
  builder = started;
  const first = fixture(0, 2);
  expect((await started.build({ service: first.service, layers: first.layers })).assembledIn).toBe("event-loop");
  const deadline = Date.now() + 20_000;
  while (started.where() !== "worker") {
    if (Date.now() > deadline) throw new Error("the bundle worker did not start within 20 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return started;
}

describe("bundle builder", () => {
  it("assembles in the worker the same bytes and ETags as on the event loop, with interpolation resolved", async () => {
    const running = await withWorker();
    const services = Array.from({ length: 12 }, (_, i) => fixture(i, 300));
    const built = await Promise.all(services.map(({ service, layers }) => running.build({ service, layers })));
    for (const [i, bundle] of built.entries()) {
      const { service, contents } = services[i] as (typeof services)[number];
      const here = assembleBundle(service, contents, MOMENT);
      expect(bundle.assembledIn).toBe("worker");
      expect(bundle.etag).toBe(here.etag);
      expect(bundle.body.equals(here.body)).toBe(true);
      const variables = JSON.parse(bundle.body.toString("utf8")).variables;
      expect(variables.REF).toBe("project-value-0-and-environment-value-1");
      expect(variables.OWN).toBe(`own-value-${i}`);
    }
  });

  it("assembles on the event loop the builds the worker had not answered when it stopped: none is lost", async () => {
    const running = await withWorker();
    const services = Array.from({ length: 20 }, (_, i) => fixture(i, 500));
    const asked = services.map(({ service, layers }) => running.build({ service, layers }));
    // The batch goes to the worker in a coming turn; the worker is stopped while it works on it.
    await new Promise((resolve) => setImmediate(resolve));
    await running.close();
    const built = await Promise.all(asked);
    for (const [i, bundle] of built.entries()) {
      const { service, contents } = services[i] as (typeof services)[number];
      expect(bundle.etag).toBe(assembleBundle(service, contents, MOMENT).etag);
    }
    expect(built.some((bundle) => bundle.assembledIn === "event-loop")).toBe(true);
    expect(running.where()).toBe("event-loop");
  });

  it("answers a service's builds asked before the worker takes them with the newest one, never with an older one", async () => {
    const running = await withWorker();
    const { service, contents } = fixture(3, 50);
    // The environment's layer at generations 1..4, each with another value of E_0.
    const at = (generation: number) => {
      const environment: LayerContent = {
        ...contents[1],
        variables: contents[1].variables.map((variable) =>
          variable.key === "E_0" ? { ...variable, value: `environment-value-at-${generation}` } : variable,
        ),
      };
      return {
        contents: [contents[0], environment, contents[2]] as const,
        layers: [
          sealed("project:p1", "3", contents[0]),
          sealed("environment:e1", String(generation), environment),
          sealed(`service:${service.id}`, "1", contents[2]),
        ] as const,
      };
    };
    // Asked in one turn, before the batch goes: 2, 4, then 3 (a caller that read an older
    // generation) and 1. Another service's build is not merged with them.
    const other = fixture(4, 50);
    const asked = [2, 4, 3, 1].map((generation) => running.build({ service, layers: at(generation).layers }));
    const otherBuilt = running.build({ service: other.service, layers: other.layers });
    const newest = assembleBundle(service, at(4).contents, MOMENT);
    for (const built of await Promise.all(asked)) {
      expect(built.etag).toBe(newest.etag);
      expect(JSON.parse(built.body.toString("utf8")).variables.E_0).toBe("environment-value-at-4");
    }
    expect((await otherBuilt).etag).toBe(assembleBundle(other.service, other.contents, MOMENT).etag);
    // A build asked later at an older generation than the last answered is still assembled at its own.
    const older = await running.build({ service, layers: at(2).layers });
    expect(older.etag).toBe(assembleBundle(service, at(2).contents, MOMENT).etag);
  });

  it("takes one build of each project in turn: another project's build does not wait behind one project's many", async () => {
    const running = await withWorker();
    const many = Array.from({ length: MAX_BATCH * 3 }, (_, i) => fixture(100 + i, 200));
    const lone = fixture(999, 20);
    const elsewhere = { ...lone, service: { ...lone.service, projectId: "p2" } };
    const answered: string[] = [];
    const asked = [...many, elsewhere].map(({ service, layers }) =>
      running.build({ service, layers }).then((built) => {
        answered.push(service.id);
        return built;
      }),
    );
    await Promise.all(asked);
    // Asked last, answered in the first batch.
    expect(answered.indexOf(elsewhere.service.id)).toBeLessThan(MAX_BATCH);
    expect(answered).toHaveLength(many.length + 1);
  });

  it("refuses a snapshot filed under another generation, in the worker as on the event loop, naming no value", async () => {
    const running = await withWorker();
    const here = createBundleBuilder({ snapshotKey: key, now, worker: false });
    const { service, layers } = fixture(1, 3);
    const misfiled = [layers[0], { ...layers[1], generation: "8" }, layers[2]] as const;
    for (const target of [running, here]) {
      const error = await target.build({ service, layers: misfiled }).then(
        () => null,
        (refused: unknown) => refused as Error,
      );
      expect(error).toBeInstanceOf(Error);
      expect(String(error?.message)).not.toMatch(/value-/);
    }
  });
});
