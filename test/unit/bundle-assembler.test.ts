// The bundle assembler (createBundleAssembler, bundle-assembly.ts): the builds of one batch share
// what their environment's services have in common, resolved and serialized once. Every bundle
// it gives must be the bytes, ETag and validity assembleBundle gives for the same service and
// layers: BUILT_INs meant for their producer, rows of another environment or service in a layer,
// credentials deliverable or expired, files, interpolation and overrides across the layers.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { assembleBundle, type BundleService, createBundleAssembler } from "../../src/modules/runtime/bundle-assembly.js";
import type { LayerContent, LayerCredential } from "../../src/modules/runtime/layer-snapshot.js";
import type { VariableScope } from "../../src/modules/variables/variable-types.js";
import type { LayerRow } from "../../src/modules/variables/variables-service.js";
import { layerRow } from "../helpers/resolution-rows.js";

const MOMENT = Date.parse("2026-12-06T00:00:00Z");

function row(partial: Parameters<typeof layerRow>[0]): LayerRow {
  return layerRow({ value: `value of ${partial.id}`, isSecret: true, ...partial });
}

function credential(name: string, expiresAt: string | null): LayerCredential {
  return {
    id: `00000000-0000-4000-8000-00000000000${name.length}`,
    name,
    typeOf: "token",
    artifact: `artifact of ${name}`,
    status: "succeeded",
    provider: "token",
    hasArtifact: true,
    expiresAt,
    environmentId: "e1",
  };
}

const services: BundleService[] = ["s1", "s2", "s3"].map((id) => ({
  id,
  name: `svc-${id}`,
  type: "APPLICATION",
  projectId: "p1",
  environmentId: "e1",
}));

describe("bundle assembler", () => {
  it("gives each service of an environment the bytes assembleBundle gives", () => {
    const project: LayerContent = {
      variables: [
        row({ id: "p1", key: "HOST", projectId: "p1", environmentId: null, serviceId: null, scope: "PROJECT", value: "db.project" }),
        row({
          id: "p2",
          key: "CONF",
          projectId: "p1",
          environmentId: null,
          serviceId: null,
          scope: "PROJECT",
          variableType: "FILE",
          mountPath: "/etc/conf",
          value: "host={{HOST}}",
          enableInterpolationInFile: true,
        }),
      ],
      credentials: [],
    };
    const environment: LayerContent = {
      variables: [
        row({
          id: "e1",
          key: "URL",
          projectId: "p1",
          environmentId: "e1",
          serviceId: null,
          scope: "ENVIRONMENT",
          value: "https://{{HOST}}/{{LATCH_CREDENTIAL_API}}",
        }),
        row({
          id: "e2",
          key: "QOVERY_APPLICATION_S1_HOST",
          projectId: "p1",
          environmentId: "e1",
          serviceId: null,
          scope: "BUILT_IN",
          builtInVisibility: "SERVICE",
          producerServiceId: "s1",
          value: "s1.internal",
        }),
        row({
          id: "e3",
          key: "QOVERY_ENVIRONMENT_ID",
          projectId: "p1",
          environmentId: "e1",
          serviceId: null,
          scope: "BUILT_IN",
          builtInVisibility: "ENVIRONMENT",
          value: "e1",
        }),
        row({ id: "e4", key: "OTHER_ENV", projectId: "p1", environmentId: "e2", serviceId: null, scope: "ENVIRONMENT" }),
      ],
      credentials: [credential("api", "2026-12-06T01:00:00Z"), credential("expired", "2026-12-05T00:00:00Z"), credential("forever", null)],
    };
    const own = (id: string): LayerContent => ({
      variables:
        id === "s1"
          ? [
              row({
                id: "o1",
                key: "HOST",
                projectId: "p1",
                environmentId: "e1",
                serviceId: "s1",
                scope: "APPLICATION",
                variableType: "OVERRIDE",
                parentId: "p1",
                value: "db.s1",
              }),
            ]
          : id === "s2"
            ? [
                row({
                  id: "o2",
                  key: "A_FIRST",
                  projectId: "p1",
                  environmentId: "e1",
                  serviceId: "s2",
                  scope: "APPLICATION",
                  value: 'ünïcode "quoted"\n',
                }),
              ]
            : [],
      credentials: [],
    });
    const assemble = createBundleAssembler();
    for (const service of services) {
      const layers = [project, environment, own(service.id)] as const;
      const shared = assemble(service, layers, MOMENT, services.length);
      const whole = assembleBundle(service, layers, MOMENT);
      expect(shared.body.toString("utf8")).toBe(whole.body.toString("utf8"));
      expect(shared.etag).toBe(whole.etag);
      expect(shared.validUntil).toBe(whole.validUntil);
    }
    const first = JSON.parse(
      assemble(services[0] as BundleService, [project, environment, own("s1")], MOMENT, services.length).body.toString("utf8"),
    );
    expect(first.variables).toMatchObject({
      HOST: "db.s1",
      URL: "https://db.s1/artifact of api",
      QOVERY_APPLICATION_S1_HOST: "s1.internal",
    });
    expect(first.files).toEqual([{ key: "CONF", mount_path: "/etc/conf", content_base64: Buffer.from("host=db.s1").toString("base64") }]);
    const second = JSON.parse(
      assemble(services[1] as BundleService, [project, environment, own("s2")], MOMENT, services.length).body.toString("utf8"),
    );
    expect(second.variables).not.toHaveProperty("QOVERY_APPLICATION_S1_HOST");
    expect(second.variables.URL).toBe("https://db.project/artifact of api");
    expect(Object.keys(second.credentials)).toEqual(["api", "forever"]);
  });

  it("gives the same bytes for generated layers, services and moments", () => {
    // "7" and "10" are array indexes, which JSON.stringify writes first and in numeric order (10
    // after 7, where sorting puts it before): no writable key is one, older rows could be.
    const KEYS = ["A", "B", "C", "QOVERY_X", "__proto__", "7", "10"];
    const spec = fc.record({
      key: fc.constantFrom(...KEYS),
      level: fc.constantFrom<"project" | "environment" | "builtin-env" | "builtin-producer" | "foreign">(
        "project",
        "environment",
        "builtin-env",
        "builtin-producer",
        "foreign",
      ),
      producer: fc.constantFrom("s1", "s2", "s3"),
      file: fc.boolean(),
      references: fc.uniqueArray(fc.constantFrom(...KEYS, "LATCH_CREDENTIAL_API", "NOBODY"), { maxLength: 2 }),
    });
    const ownSpec = fc.record({
      key: fc.constantFrom(...KEYS),
      kind: fc.constantFrom<"value" | "alias" | "file">("value", "alias", "file"),
      target: fc.constantFrom(...KEYS),
      references: fc.uniqueArray(fc.constantFrom(...KEYS), { maxLength: 2 }),
    });
    fc.assert(
      fc.property(
        fc.array(spec, { maxLength: 10 }),
        fc.array(fc.array(ownSpec, { maxLength: 4 }), { minLength: 3, maxLength: 3 }),
        fc.boolean(),
        (layerSpecs, ownSpecs, indexless) => {
          const project: LayerContent = { variables: [], credentials: [] };
          const environment: LayerContent = { variables: [], credentials: [credential("api", "2026-12-06T01:00:00Z")] };
          // Without them, so that the shared path runs (with them, every bundle is serialized whole).
          const specs = indexless ? layerSpecs.filter((s) => s.key !== "7" && s.key !== "10") : layerSpecs;
          specs.forEach((s, i) => {
            const id = `r${String(i).padStart(3, "0")}`;
            const value = `v${i}${s.references.map((r) => ` {{${r}}}`).join("")}`;
            const scope: VariableScope = s.level.startsWith("builtin") ? "BUILT_IN" : s.level === "project" ? "PROJECT" : "ENVIRONMENT";
            const at =
              s.level === "project"
                ? { projectId: "p1", environmentId: null, serviceId: null }
                : { projectId: "p1", environmentId: s.level === "foreign" ? "e9" : "e1", serviceId: null };
            const file =
              s.file && scope !== "BUILT_IN"
                ? { variableType: "FILE" as const, mountPath: `/m/${i % 2}`, enableInterpolationInFile: true }
                : {};
            const built =
              s.level === "builtin-producer"
                ? { builtInVisibility: "SERVICE" as const, producerServiceId: s.producer }
                : s.level === "builtin-env"
                  ? { builtInVisibility: "ENVIRONMENT" as const }
                  : {};
            (s.level === "project" ? project : environment).variables.push(row({ id, key: s.key, ...at, scope, value, ...file, ...built }));
          });
          const assemble = createBundleAssembler();
          services.forEach((service, n) => {
            const own: LayerContent = {
              credentials: [],
              variables: (ownSpecs[n] ?? []).map((s, i) =>
                row({
                  id: `o${n}-${i}`,
                  key: s.key,
                  projectId: "p1",
                  environmentId: "e1",
                  serviceId: service.id,
                  scope: "APPLICATION",
                  variableType: s.kind === "alias" ? "ALIAS" : s.kind === "file" ? "FILE" : "VALUE",
                  value: s.kind === "alias" ? null : `own${i}${s.references.map((r) => ` {{${r}}}`).join("")}`,
                  parentKey: s.kind === "alias" ? s.target : null,
                  mountPath: s.kind === "file" ? "/m/1" : null,
                }),
              ),
            };
            const layers = [project, environment, own] as const;
            // One assembler across two moments: the credential has expired at the second.
            for (const moment of [MOMENT, Date.parse("2026-12-06T02:00:00Z")]) {
              const shared = assemble(service, layers, moment, services.length);
              const whole = assembleBundle(service, layers, moment);
              expect(shared.body.toString("utf8")).toBe(whole.body.toString("utf8"));
              expect(shared.validUntil).toBe(whole.validUntil);
            }
          });
        },
      ),
      { numRuns: 1500 },
    );
  });
});
