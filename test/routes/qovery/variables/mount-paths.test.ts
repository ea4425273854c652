// File variables (issue #17 item 3): a mount path is absolute and normalized, and unique among
// the file variables one service sees; an override keeps its parent's path, an alias delivers no
// second file, and the runtime bundle never holds two files at one path.
import { describe, expect, it } from "vitest";
import { newId } from "../../../../src/kernel/ids.js";
import { resolveVariables } from "../../../../src/modules/variables/resolve.js";
import { describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { type Tree, useTreeHarness } from "../../../helpers/tree.js";

describe("resolution", () => {
  it("never emits two files at one mount path", () => {
    const row = (id: string, key: string, scope: "PROJECT" | "JOB") => ({
      id,
      key,
      projectId: "p",
      environmentId: scope === "JOB" ? "e" : null,
      serviceId: scope === "JOB" ? "s" : null,
      scope,
      builtInVisibility: null,
      producerServiceId: null,
      variableType: "FILE" as const,
      value: `content of ${key}`,
      isSecret: false,
      mountPath: "/etc/app.conf",
      enableInterpolationInFile: false,
      parentId: null,
      parentKey: null,
    });
    const bundle = resolveVariables([row("2", "B_FILE", "JOB"), row("1", "A_FILE", "PROJECT")]);
    expect(bundle.files).toEqual([{ key: "A_FILE", mount_path: "/etc/app.conf", content: "content of A_FILE" }]);
  });
});

describeEachDialect("qovery file variables: mount paths", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  const createVar = (payload: Record<string, unknown>) => h.inject({ method: "POST", url: "/qovery/variable", payload });
  const file = (key: string, mount_path: string, scope: string, parent: string, value = `content of ${key}`) =>
    createVar({ key, value, is_secret: false, variable_scope: scope, variable_parent_id: parent, mount_path });
  async function runtimeFiles(serviceId: string) {
    const token = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: `rt-${newId().slice(0, 8)}`, role: "runtime", organization_id: t.orgId, service_id: serviceId },
    });
    const bundle = await h.inject({ method: "GET", url: `/v1/runtime/services/${serviceId}`, token: token.json().token });
    expect(bundle.statusCode, bundle.body).toBe(200);
    return bundle.json() as {
      variables: Record<string, string>;
      files: Array<{ key: string; mount_path: string; content_base64: string }>;
    };
  }

  it("refuses a mount path that is not absolute or not normalized (400), on every create route", async () => {
    for (const path of [
      "etc/app.conf",
      "./app.conf",
      "/etc//app.conf",
      "/etc/app/",
      "/",
      "/etc/../app.conf",
      "/etc/./app.conf",
      "/etc/a\u0000b",
    ]) {
      const unified = await file("BAD_PATH", path, "JOB", t.jobId);
      expect(unified.statusCode, `${JSON.stringify(path)}: ${unified.body}`).toBe(400);
      expect(unified.json().detail).toMatch(/^mount_path must/);
      const legacy = await h.inject({
        method: "POST",
        url: `/qovery/job/${t.jobId}/environmentVariable`,
        payload: { key: "BAD_PATH", value: "x", mount_path: path },
      });
      expect(legacy.statusCode, path).toBe(400);
      const secret = await h.inject({
        method: "POST",
        url: `/qovery/job/${t.jobId}/secret`,
        payload: { key: "BAD_PATH", value: "x", mount_path: path },
      });
      expect(secret.statusCode, path).toBe(400);
    }
    const good = await file("GOOD_PATH", "/etc/app.d/good-1.conf", "JOB", t.jobId);
    expect(good.statusCode, good.body).toBe(201);
  });

  it("answers 409 naming the other variable when a create would share a path one service sees", async () => {
    expect((await file("PROJECT_FILE", "/etc/shared.conf", "PROJECT", t.projectId)).statusCode).toBe(201);
    for (const [scope, parent] of [
      ["ENVIRONMENT", t.envId],
      ["JOB", t.jobId],
      ["APPLICATION", t.applicationId],
    ] as const) {
      const clash = await file(`CLASH_${scope}`, "/etc/shared.conf", scope, parent);
      expect(clash.statusCode, clash.body).toBe(409);
      expect(clash.json().detail).toBe("mount_path /etc/shared.conf is already used by the file variable PROJECT_FILE (PROJECT)");
    }
    const legacy = await h.inject({
      method: "POST",
      url: `/qovery/container/${t.containerId}/secret`,
      payload: { key: "CLASH_SECRET", value: "x", mount_path: "/etc/shared.conf" },
    });
    expect(legacy.statusCode).toBe(409);
    expect(legacy.json().detail).toContain("PROJECT_FILE");

    // Downward too: a service's file blocks the same path above it.
    expect((await file("JOB_FILE", "/etc/job.conf", "JOB", t.jobId)).statusCode).toBe(201);
    const above = await file("ENV_FILE", "/etc/job.conf", "ENVIRONMENT", t.envId);
    expect(above.statusCode).toBe(409);
    expect(above.json().detail).toContain("JOB_FILE (JOB)");
    // Services that never see each other's files may use one path.
    expect((await file("SIBLING_FILE", "/etc/job.conf", "JOB", t.siblingJobId)).statusCode).toBe(201);
    expect((await file("FAR_FILE", "/etc/job.conf", "JOB", t.farJobId)).statusCode).toBe(201);
  });

  it("keeps the parent's path for an override (no collision), delivers no second file for an alias, and never moves a path on edit", async () => {
    const parent = await file("CONFIG_FILE", "/etc/config.yaml", "PROJECT", t.projectId, "project: 1");
    expect(parent.statusCode).toBe(201);
    const override = await h.inject({
      method: "POST",
      url: `/qovery/job/${t.jobId}/environmentVariable/${parent.json().id}/override`,
      payload: { value: "job: 1" },
    });
    expect(override.statusCode, override.body).toBe(201);
    // The path lives on the parent only (spec §7.3), as Qovery's UI expects.
    expect(override.json()).toMatchObject({ mount_path: null, overridden_variable: { mount_path: "/etc/config.yaml" } });
    const alias = await h.inject({
      method: "POST",
      url: `/qovery/job/${t.jobId}/environmentVariable/${parent.json().id}/alias`,
      payload: { key: "CONFIG_ALIAS" },
    });
    expect(alias.statusCode, alias.body).toBe(201);

    const bundle = await runtimeFiles(t.jobId);
    const atPath = bundle.files.filter((item) => item.mount_path === "/etc/config.yaml");
    expect(atPath).toHaveLength(1);
    expect(Buffer.from(atPath[0]?.content_base64 ?? "", "base64").toString()).toBe("job: 1");
    expect(bundle.variables.CONFIG_FILE).toBe("/etc/config.yaml");
    expect(bundle.files.map((item) => item.mount_path).length).toBe(new Set(bundle.files.map((item) => item.mount_path)).size);

    const edit = await h.inject({
      method: "PUT",
      url: `/qovery/project/${t.projectId}/environmentVariable/${parent.json().id}`,
      payload: { key: "CONFIG_FILE", value: "project: 2", mount_path: "/etc/job.conf" },
    });
    expect(edit.statusCode).toBe(400);
    expect(edit.json().detail).toBe("mount_path cannot change");
  });

  it("delivers one file per path even from rows written before the rule", async () => {
    const first = await file("LEGACY_A", "/etc/legacy.conf", "JOB", t.jobId, "kept");
    expect(first.statusCode).toBe(201);
    // A second file at the same path, as an older Latch could store it: copied straight into the table.
    const row = await h.context.db.selectFrom("variables").selectAll().where("id", "=", first.json().id).executeTakeFirstOrThrow();
    const id = newId();
    const value = await h.context.keyring.encrypt(row.organization_id, { table: "variables", id, field: "value" }, "dropped");
    await h.context.db
      .insertInto("variables")
      .values({ ...row, id, key: "LEGACY_B", value })
      .execute();
    const bundle = await runtimeFiles(t.jobId);
    const atPath = bundle.files.filter((item) => item.mount_path === "/etc/legacy.conf");
    expect(atPath.map((item) => item.key)).toEqual(["LEGACY_A"]);
  });

  it("refuses to roll back a deleted file onto a path another file took meanwhile (409)", async () => {
    const first = await file("RESTORED_FILE", "/etc/restore.conf", "JOB", t.jobId);
    expect((await h.inject({ method: "DELETE", url: `/qovery/variable/${first.json().id}` })).statusCode).toBe(204);
    expect((await file("NEWER_FILE", "/etc/restore.conf", "ENVIRONMENT", t.envId)).statusCode).toBe(201);
    const rollback = await h.inject({ method: "POST", url: `/v1/variables/${first.json().id}/rollback`, payload: { version: 1 } });
    expect(rollback.statusCode, rollback.body).toBe(409);
    expect(rollback.json().detail).toBe("mount_path /etc/restore.conf is already used by the file variable NEWER_FILE (ENVIRONMENT)");
  });

  it("holds under concurrency: of parallel creates at one path and different scopes, exactly one wins", async () => {
    let twoWinners = 0;
    for (let round = 0; round < 25; round++) {
      const path = `/etc/race/${round}.conf`;
      const attempts = await Promise.all([
        file(`RACE_P_${round}`, path, "PROJECT", t.projectId),
        file(`RACE_E_${round}`, path, "ENVIRONMENT", t.envId),
        file(`RACE_J_${round}`, path, "JOB", t.jobId),
      ]);
      const statuses = attempts.map((response) => response.statusCode).sort();
      if (statuses.filter((status) => status === 201).length > 1) twoWinners += 1;
      expect(statuses, `round ${round}`).toEqual([201, 409, 409]);
    }
    expect(twoWinners).toBe(0);
  });
});
