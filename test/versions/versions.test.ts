// Versions and rollback of variables, point-in-time reads and restores of an environment, and
// versions of credentials, on both engines. Values are checked through the runtime endpoint,
// and never appear in a version, an event, a response or a log line.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { listenReactor, ReactorClient } from "../helpers/reactor-client.js";

const canary = (label: string) => `canary-${label}-${randomBytes(8).toString("hex")}`;

describeEachDialect("variable versions, rollback and restore", (dialect) => {
  let h: Harness;
  let orgId: string;
  let projectId: string;
  let envId: string;
  let jobId: string;
  let runtime: string;
  let viewer: string;
  let member: string;
  let outsider: string;
  const canaries: string[] = [];

  function value(label: string): string {
    const made = canary(label);
    canaries.push(made);
    return made;
  }

  async function ok(method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: unknown, token?: string) {
    const response = await h.inject({ method, url, ...(payload === undefined ? {} : { payload: payload as object }), token });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? null : response.json();
  }

  /** A restore's answer as [id, change] pairs. */
  function changesOf(restored: { changed: unknown }): Array<[string, string]> {
    return (restored.changed as Array<{ id: string; change: string }>).map((row) => [row.id, row.change]);
  }

  async function delivered(): Promise<Record<string, string>> {
    return (await ok("GET", `/v1/runtime/services/${jobId}`, undefined, runtime)).variables;
  }

  async function versionsOf(id: string, token?: string) {
    return (await ok("GET", `/v1/variables/${id}/versions`, undefined, token)).results as Array<{
      version: number;
      action: string;
      key: string;
      deleted: boolean;
      actor: { token_id: string | null; name: string };
    }>;
  }

  async function eventsOf(resource: string): Promise<string[]> {
    const body = await ok("GET", `/v1/audit?resource=${resource}&limit=500`);
    return (body.results as Array<{ action: string }>).map((event) => event.action);
  }

  /** The moment after every write so far; the next write is stamped strictly later. */
  async function moment(): Promise<string> {
    const at = Date.now();
    while (Date.now() <= at) await new Promise((resolve) => setTimeout(resolve, 1));
    return new Date(at).toISOString();
  }

  beforeAll(async () => {
    h = await createHarness(dialect);
    orgId = (await ok("GET", "/qovery/organization")).results[0].id;
    projectId = (await ok("POST", `/qovery/organization/${orgId}/project`, { name: "shop" })).id;
    envId = (await ok("POST", `/qovery/project/${projectId}/environment`, { name: "prod", mode: "PRODUCTION" })).id;
    jobId = (await ok("POST", `/qovery/environment/${envId}/job`, { name: "billing", healthchecks: {} })).id;
    const token = async (role: string, extra: Record<string, unknown> = {}, organization = orgId) =>
      (await ok("POST", "/v1/tokens", { name: `${role}-token`, role, organization_id: organization, ...extra })).token as string;
    runtime = await token("runtime", { service_id: jobId });
    viewer = await token("viewer");
    member = await token("member");
    const other = (await ok("POST", "/qovery/organization", { name: "other-org", plan: "FREE" })).id;
    outsider = await token("admin", {}, other);
  });
  afterAll(async () => h.close());

  it("records a version and an event for every kind of write", async () => {
    const secret = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "KINDS_DB", value: value("create") });
    await ok("PUT", `/qovery/environment/${envId}/secret/${secret.id}`, { key: "KINDS_DB", value: value("edit") });
    const override = await ok("POST", `/qovery/job/${jobId}/secret/${secret.id}/override`, { value: value("override") });
    const alias = await ok("POST", `/qovery/job/${jobId}/secret/${secret.id}/alias`, { key: "KINDS_ALIAS" });
    await ok("POST", `/qovery/variable/import?service_id=${jobId}&service_type=JOB`, {
      overwrite: false,
      vars: [{ name: "KINDS_IMPORTED", value: value("import"), scope: "JOB", is_secret: true }],
    });
    const imported = (await ok("GET", `/qovery/job/${jobId}/secret`)).results.find((row: { key: string }) => row.key === "KINDS_IMPORTED");

    expect((await versionsOf(secret.id)).map((v) => [v.version, v.action])).toEqual([
      [2, "update"],
      [1, "create"],
    ]);
    expect((await versionsOf(override.id)).map((v) => v.action)).toEqual(["override"]);
    expect((await versionsOf(alias.id)).map((v) => v.action)).toEqual(["alias"]);
    expect((await versionsOf(imported.id)).map((v) => v.action)).toEqual(["import"]);
    const [first] = await versionsOf(secret.id);
    expect(first?.actor).toEqual({ token_id: expect.any(String), name: "instance-admin" });

    // Renaming the parent renames its override: the override gets a version with its new key.
    await ok("PUT", `/qovery/environment/${envId}/secret/${secret.id}`, { key: "KINDS_DB_RENAMED" });
    expect((await versionsOf(override.id)).map((v) => [v.action, v.key])).toEqual([
      ["update", "KINDS_DB_RENAMED"],
      ["override", "KINDS_DB"],
    ]);

    // Deleting the parent removes its override and alias: each gets its deletion recorded.
    await ok("DELETE", `/qovery/environment/${envId}/secret/${secret.id}`);
    for (const id of [secret.id, override.id, alias.id]) {
      const [last] = await versionsOf(id);
      expect(last).toMatchObject({ action: "delete", deleted: true });
      expect(await eventsOf(id)).toContain("variable.delete");
    }
    expect(await eventsOf(secret.id)).toEqual(["variable.delete", "variable.update", "variable.update", "variable.create"]);
    expect(await eventsOf(override.id)).toEqual(["variable.delete", "variable.update", "variable.override"]);
    expect(await eventsOf(alias.id)).toEqual(["variable.delete", "variable.alias"]);
    expect(await eventsOf(imported.id)).toEqual(["variable.import"]);
  });

  it("keeps an import's values in the versions and events it records: rolled back to, looked up by value", async () => {
    // The import's history takes the values of the rows it creates from the request, without
    // reading them back (variables-import.ts); what it records must still be those values.
    // Plain values are shown by the management API: only the secret's is a canary (never shown).
    const shown = (label: string) => `${label}-${randomBytes(6).toString("hex")}`;
    const [secretValue, plainValue, overrideValue] = [value("imported-secret"), shown("imported-plain"), shown("imported-override")];
    const parent = await ok("POST", `/qovery/environment/${envId}/environmentVariable`, { key: "IMPORT_PARENT", value: shown("parent") });
    const imported = await ok("POST", `/qovery/variable/import?service_id=${jobId}&service_type=JOB`, {
      overwrite: false,
      vars: [
        { name: "IMPORT_SECRET", value: secretValue, scope: "JOB", is_secret: true },
        { name: "IMPORT_PLAIN", value: plainValue, scope: "JOB", is_secret: false },
        { name: "IMPORT_PARENT", value: overrideValue, scope: "JOB", is_secret: false },
      ],
    });
    expect(imported.successful_imported_variables).toHaveLength(3);
    const own = (await ok("GET", `/qovery/variable?parent_id=${jobId}&scope=JOB`)).results as Array<{
      id: string;
      key: string;
      variable_type: string;
    }>;
    const idOf = (key: string, type = "VALUE") => own.find((row) => row.key === key && row.variable_type === type)?.id as string;
    const ids = {
      IMPORT_SECRET: idOf("IMPORT_SECRET"),
      IMPORT_PLAIN: idOf("IMPORT_PLAIN"),
      IMPORT_PARENT: idOf("IMPORT_PARENT", "OVERRIDE"),
    };
    expect((await delivered()).IMPORT_PARENT).toBe(overrideValue);
    expect(parent.id).not.toBe(ids.IMPORT_PARENT);
    // Each edited, then rolled back to its first version, the import's: the imported value is delivered again.
    for (const [key, id] of Object.entries(ids)) {
      expect((await versionsOf(id)).map((v) => [v.version, v.action])).toEqual([[1, "import"]]);
      const edited = shown("edited");
      await ok("PUT", `/qovery/variable/${id}`, { key, value: edited });
      expect((await delivered())[key]).toBe(edited);
      await ok("POST", `/v1/variables/${id}/rollback`, { version: 1 });
    }
    const after = await delivered();
    expect([after.IMPORT_SECRET, after.IMPORT_PLAIN, after.IMPORT_PARENT]).toEqual([secretValue, plainValue, overrideValue]);
    // The overridden parent rolls back too, its override in place (its key is the override's).
    await ok("PUT", `/qovery/environment/${envId}/environmentVariable/${parent.id}`, {
      key: "IMPORT_PARENT",
      value: shown("parent-edited"),
    });
    await ok("POST", `/v1/variables/${parent.id}/rollback`, { version: 1 });
    expect((await versionsOf(parent.id)).map((v) => v.action)).toEqual(["rollback", "update", "create"]);
    expect((await delivered()).IMPORT_PARENT).toBe(overrideValue);
    // The import's events are found by each value.
    for (const [made, id] of [
      [secretValue, ids.IMPORT_SECRET],
      [plainValue, ids.IMPORT_PLAIN],
      [overrideValue, ids.IMPORT_PARENT],
    ]) {
      const found = await ok("POST", "/v1/audit/lookup", { value: made, organization_id: orgId });
      expect(
        (found.results as Array<{ action: string; resource: { id: string } }>).filter((e) => e.resource.id === id).map((e) => e.action),
      ).toContain("variable.import");
    }
  });

  it("numbers an edit's, an import overwrite's and a rollback's versions after the last and keeps their values", async () => {
    // Each takes its new value from what it was given (a rollback: the version it decrypted) and
    // the last number from its update's statement (variables-write.ts, variables-import.ts,
    // variables-restore.ts): neither is read back.
    const shown = (label: string) => `${label}-${randomBytes(6).toString("hex")}`;
    const [v1, v2, v3, v4] = [shown("first"), shown("edited"), shown("imported"), shown("after")];
    const made = await ok("POST", `/qovery/job/${jobId}/environmentVariable`, { key: "OVERWRITTEN", value: v1 });
    await ok("PUT", `/qovery/job/${jobId}/environmentVariable/${made.id}`, { key: "OVERWRITTEN", value: v2 });
    const imported = await ok("POST", `/qovery/variable/import?service_id=${jobId}&service_type=JOB`, {
      overwrite: true,
      vars: [{ name: "OVERWRITTEN", value: v3, scope: "JOB", is_secret: false }],
    });
    expect(imported.successful_imported_variables).toHaveLength(1);
    expect((await delivered()).OVERWRITTEN).toBe(v3);
    await ok("PUT", `/qovery/job/${jobId}/environmentVariable/${made.id}`, { key: "OVERWRITTEN", value: v4 });
    expect((await versionsOf(made.id)).map((v) => [v.version, v.action])).toEqual([
      [4, "update"],
      [3, "import"],
      [2, "update"],
      [1, "create"],
    ]);
    for (const [version, expected] of [
      [3, v3],
      [2, v2],
      [4, v4],
    ] as const) {
      await ok("POST", `/v1/variables/${made.id}/rollback`, { version });
      expect((await delivered()).OVERWRITTEN).toBe(expected);
    }
    // A rollback's version too is numbered after the last (its update reads it), with the value it brought back.
    expect((await versionsOf(made.id)).map((v) => [v.version, v.action])).toEqual([
      [7, "rollback"],
      [6, "rollback"],
      [5, "rollback"],
      [4, "update"],
      [3, "import"],
      [2, "update"],
      [1, "create"],
    ]);
    await ok("POST", `/v1/variables/${made.id}/rollback`, { version: 6 });
    expect((await delivered()).OVERWRITTEN).toBe(v2);
    const found = await ok("POST", "/v1/audit/lookup", { value: v3, organization_id: orgId });
    expect(
      (found.results as Array<{ action: string; resource: { id: string } }>).filter((e) => e.resource.id === made.id).map((e) => e.action),
    ).toContain("variable.import");
  });

  it("keeps an override on its parent's key when it is rolled back, re-created or restored after the parent's rename", async () => {
    // An override's versions hold the key its parent had then; the parent's key now is what it must keep.
    const shown = (label: string) => `${label}-${randomBytes(6).toString("hex")}`;
    const parent = await ok("POST", `/qovery/environment/${envId}/environmentVariable`, { key: "RENAMED_PARENT", value: shown("parent") });
    const first = shown("override-1");
    const override = await ok("POST", `/qovery/job/${jobId}/environmentVariable/${parent.id}/override`, { value: first });
    const start = await moment();
    await ok("PUT", `/qovery/job/${jobId}/environmentVariable/${override.id}`, { key: "RENAMED_PARENT", value: shown("override-2") });
    await ok("PUT", `/qovery/environment/${envId}/environmentVariable/${parent.id}`, {
      key: "RENAMED_PARENT_NOW",
      value: shown("parent-2"),
    });
    const keyOf = async (id: string) =>
      ((await ok("GET", `/qovery/variable?parent_id=${jobId}&scope=JOB`)).results as Array<{ id: string; key: string }>).find(
        (row) => row.id === id,
      )?.key;
    expect(await keyOf(override.id)).toBe("RENAMED_PARENT_NOW");
    // 1. Rolled back to its first value: the value comes back, the key stays the parent's.
    await ok("POST", `/v1/variables/${override.id}/rollback`, { version: 1 });
    expect(await keyOf(override.id)).toBe("RENAMED_PARENT_NOW");
    expect((await versionsOf(override.id))[0]).toMatchObject({ action: "rollback", key: "RENAMED_PARENT_NOW" });
    let seen = await delivered();
    expect(seen.RENAMED_PARENT_NOW).toBe(first);
    expect(seen.RENAMED_PARENT).toBeUndefined();
    // 2. Deleted, then brought back from a version: on the parent's key too.
    await ok("DELETE", `/qovery/job/${jobId}/environmentVariable/${override.id}`);
    await ok("POST", `/v1/variables/${override.id}/rollback`, { version: 1 });
    expect(await keyOf(override.id)).toBe("RENAMED_PARENT_NOW");
    expect((await delivered()).RENAMED_PARENT_NOW).toBe(first);
    // 3. The job's environment restored to before the edits: the parent (an environment row) is
    // restored with its old key and its override follows it; both values come back. The
    // override's state is then its state at `start` already: it is not written again.
    const restored = await ok("POST", `/v1/environments/${envId}/restore`, { at: start });
    const changed = changesOf(restored);
    expect(changed).toContainEqual([parent.id, "updated"]);
    expect(changed.map(([id]) => id)).not.toContain(override.id);
    seen = await delivered();
    expect(await keyOf(override.id)).toBe("RENAMED_PARENT");
    expect(seen.RENAMED_PARENT).toBe(first);
    expect(seen.RENAMED_PARENT_NOW).toBeUndefined();
  });

  it("numbers the versions of concurrent edits of one variable, then of its deletion with its override's, without a gap or a repeat", async () => {
    // An edit reads its variable's newest number with its update, a deletion with its row and its
    // children's (variables-writes.ts, variable-history.ts); one group's edits of one variable are
    // in layer-groups.test.ts.
    const parent = await ok("POST", `/qovery/environment/${envId}/environmentVariable`, { key: "CONCURRENT", value: "v0" });
    const override = await ok("POST", `/qovery/job/${jobId}/environmentVariable/${parent.id}/override`, { value: "o0" });
    await ok("PUT", `/qovery/job/${jobId}/environmentVariable/${override.id}`, { key: "CONCURRENT", value: "o1" });
    const edits = Array.from({ length: 12 }, (_, i) =>
      ok("PUT", `/qovery/environment/${envId}/environmentVariable/${parent.id}`, { key: "CONCURRENT", value: `v${i + 1}` }),
    );
    await Promise.all(edits);
    const numbers = (await versionsOf(parent.id)).map((v) => v.version);
    expect(numbers).toEqual(Array.from({ length: 13 }, (_, i) => 13 - i));
    await ok("DELETE", `/qovery/environment/${envId}/environmentVariable/${parent.id}`);
    expect((await versionsOf(parent.id)).slice(0, 2).map((v) => [v.version, v.action, v.deleted])).toEqual([
      [14, "delete", true],
      [13, "update", false],
    ]);
    // The override went with it (its foreign key), its deletion numbered on from its own versions.
    expect((await versionsOf(override.id)).map((v) => [v.version, v.action, v.deleted])).toEqual([
      [3, "delete", true],
      [2, "update", false],
      [1, "override", false],
    ]);
    const events = (await ok("GET", `/v1/audit?resource=${override.id}&limit=500`)).results as Array<{
      action: string;
      details: Record<string, unknown>;
    }>;
    expect(events.find((event) => event.action === "variable.delete")?.details).toMatchObject({ deleted_with: parent.id, version: 3 });
    expect(await eventsOf(parent.id)).toContain("variable.delete");
  });

  it("rolls a variable back to an earlier value, answering metadata only", async () => {
    const [v1, v2] = [value("v1"), value("v2")];
    const secret = await ok("POST", `/qovery/job/${jobId}/secret`, { key: "ROLL_TOKEN", value: v1 });
    await ok("PUT", `/qovery/job/${jobId}/secret/${secret.id}`, { key: "ROLL_TOKEN_RENAMED", value: v2 });
    expect((await delivered()).ROLL_TOKEN_RENAMED).toBe(v2);

    const response = await h.inject({ method: "POST", url: `/v1/variables/${secret.id}/rollback`, payload: { version: 1 }, token: member });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      id: secret.id,
      key: "ROLL_TOKEN",
      scope: "JOB",
      variable_type: "VALUE",
      is_secret: true,
      description: null,
      mount_path: null,
      environment_id: envId,
      service_id: jobId,
      version: 3,
    });
    const now = await delivered();
    expect(now.ROLL_TOKEN).toBe(v1);
    expect(now.ROLL_TOKEN_RENAMED).toBeUndefined();
    const versions = await versionsOf(secret.id, viewer);
    expect(versions.map((v) => [v.version, v.action, v.key])).toEqual([
      [3, "rollback", "ROLL_TOKEN"],
      [2, "update", "ROLL_TOKEN_RENAMED"],
      [1, "create", "ROLL_TOKEN"],
    ]);
    expect(versions[0]?.actor.name).toBe("member-token");
    expect(Object.keys(versions[0] ?? {}).sort()).toEqual(["action", "actor", "created_at", "deleted", "description", "key", "version"]);
    expect(await eventsOf(secret.id)).toEqual(["variable.rollback", "variable.update", "variable.create"]);

    const missing = await h.inject({ method: "POST", url: `/v1/variables/${secret.id}/rollback`, payload: { version: 9 }, token: member });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe("NOT_FOUND");
  });

  it("restores a deleted variable from its last version", async () => {
    const kept = value("deleted");
    const secret = await ok("POST", `/qovery/job/${jobId}/secret`, { key: "GONE_KEY", value: kept });
    await ok("DELETE", `/qovery/job/${jobId}/secret/${secret.id}`);
    expect((await delivered()).GONE_KEY).toBeUndefined();
    const versions = await versionsOf(secret.id);
    expect(versions[0]).toMatchObject({ version: 2, action: "delete", deleted: true });

    const restored = await ok("POST", `/v1/variables/${secret.id}/rollback`, { version: 1 });
    expect(restored).toMatchObject({ id: secret.id, key: "GONE_KEY", version: 3 });
    expect((await delivered()).GONE_KEY).toBe(kept);
    // The Qovery face sees the same row again, under its old id.
    const listed = (await ok("GET", `/qovery/job/${jobId}/secret`)).results.map((row: { id: string }) => row.id);
    expect(listed).toContain(secret.id);

    // A key taken meanwhile is a conflict, and nothing is written.
    await ok("DELETE", `/qovery/job/${jobId}/secret/${secret.id}`);
    const taker = await ok("POST", `/qovery/job/${jobId}/secret`, { key: "GONE_KEY", value: value("taker") });
    const conflict = await h.inject({ method: "POST", url: `/v1/variables/${secret.id}/rollback`, payload: { version: 1 } });
    expect(conflict.statusCode).toBe(409);
    expect((await versionsOf(secret.id))[0]?.action).toBe("delete");
    await ok("DELETE", `/qovery/job/${jobId}/secret/${taker.id}`);
  });

  it("shows an environment as it was and restores it in one set of versions", async () => {
    const [a1, a2, b1, c1, s1] = [value("a1"), value("a2"), value("b1"), value("c1"), value("s1")];
    const a = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "PIT_A", value: a1 });
    const b = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "PIT_B", value: b1 });
    const s = await ok("POST", `/qovery/job/${jobId}/secret`, { key: "PIT_S", value: s1 });
    const at = await moment();

    await ok("PUT", `/qovery/environment/${envId}/secret/${a.id}`, { key: "PIT_A", value: a2 });
    await ok("DELETE", `/qovery/environment/${envId}/secret/${b.id}`);
    await ok("DELETE", `/qovery/job/${jobId}/secret/${s.id}`);
    const c = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "PIT_C", value: c1 });
    let now = await delivered();
    expect([now.PIT_A, now.PIT_B, now.PIT_C, now.PIT_S]).toEqual([a2, undefined, c1, undefined]);

    const then = await ok("GET", `/v1/environments/${envId}/variables?at=${encodeURIComponent(at)}`, undefined, viewer);
    const keys = (then.results as Array<{ key: string }>).map((row) => row.key).filter((key) => key.startsWith("PIT_"));
    expect(keys).toEqual(["PIT_A", "PIT_B", "PIT_S"]);
    expect(JSON.stringify(then)).not.toContain("value");

    const viewerRestore = await h.inject({ method: "POST", url: `/v1/environments/${envId}/restore`, payload: { at }, token: viewer });
    expect(viewerRestore.statusCode).toBe(403);

    const restored = await ok("POST", `/v1/environments/${envId}/restore`, { at }, member);
    const changes = changesOf(restored);
    expect(changes).toEqual(
      expect.arrayContaining([
        [a.id, "updated"],
        [b.id, "restored"],
        [s.id, "restored"],
        [c.id, "deleted"],
      ]),
    );
    now = await delivered();
    expect([now.PIT_A, now.PIT_B, now.PIT_C, now.PIT_S]).toEqual([a1, b1, undefined, s1]);
    expect((await versionsOf(a.id))[0]?.action).toBe("restore");
    expect((await versionsOf(c.id))[0]).toMatchObject({ action: "restore", deleted: true });
    expect(await eventsOf(c.id)).toContain("variable.delete");

    // Restoring the same moment again changes nothing more.
    expect((await ok("POST", `/v1/environments/${envId}/restore`, { at })).changed).toEqual([]);
    const bad = await h.inject({ method: "POST", url: `/v1/environments/${envId}/restore`, payload: { at: "yesterday" } });
    expect(bad.statusCode).toBe(400);
  });

  it("refuses an environment's restore that would bring a key back beside a project variable that took it, and writes nothing", async () => {
    // The restored row's key is checked along its lineage before anything is written.
    const [kept, edited] = [value("restore-kept"), value("restore-edited")];
    const gone = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "TAKEN_BACK", value: value("taken-back") });
    const stays = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "TAKEN_STAYS", value: kept });
    const at = await moment();
    await ok("DELETE", `/qovery/environment/${envId}/secret/${gone.id}`);
    await ok("PUT", `/qovery/environment/${envId}/secret/${stays.id}`, { key: "TAKEN_STAYS", value: edited });
    const taker = await ok("POST", `/qovery/project/${projectId}/secret`, { key: "TAKEN_BACK", value: value("taker") });
    const refused = await h.inject({ method: "POST", url: `/v1/environments/${envId}/restore`, payload: { at }, token: member });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.body).toContain("TAKEN_BACK");
    // Nothing of it was written: the edited row keeps its value and version, the deleted one stays deleted.
    const now = await delivered();
    expect(now.TAKEN_STAYS).toBe(edited);
    expect((await versionsOf(stays.id))[0]?.action).toBe("update");
    expect((await versionsOf(gone.id))[0]?.action).toBe("delete");
    await ok("DELETE", `/qovery/project/${projectId}/secret/${taker.id}`);
    const restored = await ok("POST", `/v1/environments/${envId}/restore`, { at }, member);
    const changes = changesOf(restored);
    expect(changes).toEqual(
      expect.arrayContaining([
        [gone.id, "restored"],
        [stays.id, "updated"],
      ]),
    );
    expect((await delivered()).TAKEN_STAYS).toBe(kept);
  });

  it("restores names deleted and created again since: the new rows go, the old ones come back with their values", async () => {
    // The restore deletes the new rows before it brings the old ones back on their keys: the keys
    // are free by then, at the environment's level and at a service's.
    const [oldEnv, newEnv, oldSvc, newSvc] = [value("swap-old-env"), value("swap-new-env"), value("swap-old-svc"), value("swap-new-svc")];
    const env = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "SWAP_ENV", value: oldEnv });
    const svc = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "SWAP_SVC", value: oldSvc });
    // Another service of the environment holds a key of its own that the job's comes back beside.
    const sibling = (await ok("POST", `/qovery/environment/${envId}/job`, { name: "ledger", healthchecks: {} })).id;
    await ok("POST", `/qovery/job/${sibling}/secret`, { key: "SWAP_SIBLING", value: value("swap-sibling") });
    const own = await ok("POST", `/qovery/job/${jobId}/secret`, { key: "SWAP_SIBLING", value: value("swap-own") });
    const at = await moment();
    await ok("DELETE", `/qovery/job/${jobId}/secret/${own.id}`);
    await ok("DELETE", `/qovery/environment/${envId}/secret/${env.id}`);
    await ok("DELETE", `/qovery/environment/${envId}/secret/${svc.id}`);
    const envAgain = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "SWAP_ENV", value: newEnv });
    const svcAgain = await ok("POST", `/qovery/job/${jobId}/secret`, { key: "SWAP_SVC", value: newSvc });
    expect(await delivered()).toMatchObject({ SWAP_ENV: newEnv, SWAP_SVC: newSvc });

    const restored = await ok("POST", `/v1/environments/${envId}/restore`, { at }, member);
    const changes = changesOf(restored);
    expect(changes).toEqual(
      expect.arrayContaining([
        [envAgain.id, "deleted"],
        [svcAgain.id, "deleted"],
        [env.id, "restored"],
        [svc.id, "restored"],
        [own.id, "restored"],
      ]),
    );
    expect(await delivered()).toMatchObject({ SWAP_ENV: oldEnv, SWAP_SVC: oldSvc, SWAP_SIBLING: expect.stringContaining("swap-own") });
  });

  it("appends a restore's audit events together, after its last row, and a rename's with its overrides", async () => {
    // On PostgreSQL the organization's audit chain head is locked from a transaction's first
    // append to its COMMIT, and every writer of the organization waits for it: a restore of
    // thousands of rows must take it once at its end (recordMany), not once per row from the first.
    const rows = await Promise.all(
      ["TOGETHER_A", "TOGETHER_B", "TOGETHER_C"].map((key) =>
        ok("POST", `/qovery/environment/${envId}/secret`, { key, value: value(key) }),
      ),
    );
    const at = await moment();
    for (const row of rows) await ok("PUT", `/qovery/environment/${envId}/secret/${row.id}`, { key: row.key, value: value("later") });
    const extra = await ok("POST", `/qovery/environment/${envId}/secret`, { key: "TOGETHER_EXTRA", value: value("extra") });
    const record = vi.spyOn(h.context.audit, "record");
    const recordMany = vi.spyOn(h.context.audit, "recordMany");
    try {
      const restored = await ok("POST", `/v1/environments/${envId}/restore`, { at });
      const changed = (restored.changed as Array<{ id: string; change: string }>).map((row) => row.id);
      // What did not exist then goes first, then what changed since goes back.
      expect(changed[0]).toBe(extra.id);
      expect(changed.slice(1).sort()).toEqual(rows.map((row) => row.id as string).sort());
      const variableEvents = (calls: unknown[][]) => calls.filter((call) => JSON.stringify(call).includes('"resourceType":"variable"'));
      expect(variableEvents(record.mock.calls)).toEqual([]);
      expect(recordMany).toHaveBeenCalledTimes(1);
      const appended = (recordMany.mock.calls[0]?.[1] ?? []) as Array<{ entry: { action: string; resourceId: string } }>;
      expect(appended.map(({ entry }) => [entry.resourceId, entry.action])).toEqual([
        [extra.id, "variable.delete"],
        ...changed.slice(1).map((id) => [id, "variable.restore"]),
      ]);
      // Kept until the end of the restore, the events hold their values only as HMACs: no value
      // in clear stays in memory for the transaction's length (thousands of rows of up to 1 MiB).
      const kept = JSON.stringify(appended);
      for (const made of canaries) expect(kept).not.toContain(made);
      for (const { entry } of appended as Array<{ entry: { values?: unknown; valueHmacs?: unknown[] } }>) {
        expect(entry.values).toBeUndefined();
        expect(entry.valueHmacs).toHaveLength(1);
      }

      // A rename carries its overrides' new key: their events and the parent's, together.
      recordMany.mockClear();
      const parent = rows[0] as { id: string; key: string };
      await ok("POST", `/qovery/job/${jobId}/secret/${parent.id}/override`, { value: value("override") });
      await ok("PUT", `/qovery/environment/${envId}/secret/${parent.id}`, { key: "TOGETHER_RENAMED", value: value("renamed") });
      expect(recordMany).toHaveBeenCalledTimes(1);
      const renamed = (recordMany.mock.calls[0]?.[1] ?? []) as unknown as Array<{ entry: { action: string; details: { key: string } } }>;
      expect(renamed.map(({ entry }) => [entry.action, entry.details.key])).toEqual([
        ["variable.update", "TOGETHER_RENAMED"],
        ["variable.update", "TOGETHER_RENAMED"],
      ]);
    } finally {
      record.mockRestore();
      recordMany.mockRestore();
    }
    // Every event landed in the chain, which still verifies.
    expect(await eventsOf(extra.id)).toContain("variable.delete");
    const verified = await ok("GET", `/v1/audit/verify?organization_id=${orgId}`);
    expect(verified).toMatchObject({ intact: true });
  });

  it("keeps the last 50 versions of a variable", async () => {
    const secret = await ok("POST", `/qovery/job/${jobId}/secret`, { key: "KEEP_ME", value: "v0" });
    const started = performance.now();
    for (let edit = 1; edit <= 51; edit += 1) {
      await ok("PUT", `/qovery/job/${jobId}/secret/${secret.id}`, { key: "KEEP_ME", value: `v${edit}` });
    }
    // A figure, not an assertion: an edit with its version and audit event, through app.inject().
    console.log(`[${dialect}] edit + version + audit event: ${((performance.now() - started) / 51).toFixed(1)} ms per request`);
    const versions = await versionsOf(secret.id);
    expect(versions).toHaveLength(50);
    expect(versions[0]?.version).toBe(52);
    expect(versions[49]?.version).toBe(3);
    const gone = await h.inject({ method: "POST", url: `/v1/variables/${secret.id}/rollback`, payload: { version: 1 } });
    expect(gone.statusCode).toBe(404);
    await ok("POST", `/v1/variables/${secret.id}/rollback`, { version: 3 });
    expect((await delivered()).KEEP_ME).toBe("v2");
  });

  it("answers 404 to another organization and 403 to a runtime token", async () => {
    const secret = await ok("POST", `/qovery/job/${jobId}/secret`, { key: "FENCED", value: value("fenced") });
    for (const [method, url, payload] of [
      ["GET", `/v1/variables/${secret.id}/versions`, undefined],
      ["POST", `/v1/variables/${secret.id}/rollback`, { version: 1 }],
      ["GET", `/v1/environments/${envId}/variables?at=2020-01-01T00:00:00Z`, undefined],
      ["POST", `/v1/environments/${envId}/restore`, { at: "2020-01-01T00:00:00Z" }],
    ] as const) {
      const foreign = await h.inject({ method, url, ...(payload === undefined ? {} : { payload }), token: outsider });
      expect(foreign.statusCode, url).toBe(404);
      const machine = await h.inject({ method, url, ...(payload === undefined ? {} : { payload }), token: runtime });
      expect(machine.statusCode, url).toBe(403);
    }
    expect((await h.inject({ method: "GET", url: `/v1/variables/${randomUuid()}/versions` })).statusCode).toBe(404);
  });

  it("records versions of credentials: create, exchange, update, delete", async () => {
    const baseUrl = await listenReactor(h.app);
    const client = new ReactorClient(baseUrl, { token: h.adminToken });
    const company = (await client.get("/companies")).data[0].id;
    const property = (
      await client.post(`/companies/${company}/properties`, {
        data: { type: "properties", attributes: { name: "edge property", platform: "edge" } },
      })
    ).data;
    const token = value("credential");
    const created = (
      await client.post(`/properties/${property.id}/secrets`, {
        data: { type: "secrets", attributes: { name: "stripe", type_of: "token", credentials: { token } } },
      })
    ).data;
    for (let tick = 0; tick < 10 && (await h.context.exchange.runDue()).ran > 0; tick += 1);
    await client.patch(`/secrets/${created.id}`, { data: { id: created.id, type: "secrets", attributes: { name: "stripe-live" } } });
    await client.delete(`/secrets/${created.id}`);

    const rowId = `${created.id.slice(2, 10)}-${created.id.slice(10, 14)}-${created.id.slice(14, 18)}-${created.id.slice(18, 22)}-${created.id.slice(22)}`;
    const versions = await h.context.db
      .selectFrom("credential_versions")
      .selectAll()
      .where("credential_id", "=", rowId)
      .orderBy("version")
      .execute();
    expect(versions.map((row) => [row.version, row.action, row.status, row.name])).toEqual([
      [1, "create", "pending", "stripe"],
      [2, "exchange", "succeeded", "stripe"],
      [3, "update", "succeeded", "stripe-live"],
      [4, "delete", "succeeded", "stripe-live"],
    ]);
    expect(versions[0]?.secret_credentials).not.toBeNull();
    const listed = await ok("GET", `/v1/credentials/${created.id}/versions`, undefined, viewer);
    expect((listed.results as Array<{ action: string; name: string }>).map((v) => [v.action, v.name])).toEqual([
      ["delete", "stripe-live"],
      ["update", "stripe-live"],
      ["exchange", "stripe"],
      ["create", "stripe"],
    ]);
    expect(JSON.stringify(listed)).not.toContain(token);
    expect((await h.inject({ method: "GET", url: `/v1/credentials/${rowId}/versions`, token: outsider })).statusCode).toBe(404);
    const events = await ok("GET", `/v1/audit?resource=${rowId}`);
    expect((events.results as Array<{ action: string; actor: { name: string } }>).map((e) => [e.action, e.actor.name])).toEqual([
      ["credential.delete", "instance-admin"],
      ["credential.update", "instance-admin"],
      ["credential.exchange", "system"],
      ["credential.create", "instance-admin"],
    ]);
    // The Reactor id names the same resource.
    expect((await ok("GET", `/v1/audit?resource=${created.id}`)).results).toEqual(events.results);
    const found = await ok("POST", "/v1/audit/lookup", { value: token, organization_id: orgId });
    expect((found.results as Array<{ action: string }>).map((e) => e.action)).toEqual(
      expect.arrayContaining(["credential.create", "credential.exchange", "credential.delete"]),
    );
  });

  it("never stores or shows a value in clear", async () => {
    await h.context.audit.flush();
    const stored = [
      ...(await h.context.db.selectFrom("variable_versions").selectAll().execute()),
      ...(await h.context.db.selectFrom("credential_versions").selectAll().execute()),
      ...(await h.context.db.selectFrom("audit_events").selectAll().execute()),
    ];
    const raw = stored.map((row) =>
      Object.values(row)
        .map((field) => (Buffer.isBuffer(field) ? field.toString("latin1") : String(field)))
        .join("|"),
    );
    const files =
      h.dialect === "sqlite"
        ? ["latch.db", "latch.db-wal"]
            .map((name) => join(h.dataDir, name))
            .filter(existsSync)
            .map((path) => readFileSync(path).toString("latin1"))
        : [];
    expect(canaries.length).toBeGreaterThan(10);
    for (const secret of canaries) {
      expect(raw.filter((text) => text.includes(secret))).toEqual([]);
      expect(h.seen.filter((body) => body.includes(secret) && !body.includes('"variables"'))).toEqual([]);
      expect(h.logs.filter((line) => line.includes(secret))).toEqual([]);
      for (const bytes of files) expect(bytes.includes(secret)).toBe(false);
    }
  });
});

function randomUuid(): string {
  const hex = randomBytes(16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20)}`;
}
