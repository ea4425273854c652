// Who may do what: member/admin write, viewer lists, runtime gets 403, another organization 404;
// and no secret value ever leaves through a response, a log line or the database file.
import { expect, it } from "vitest";
import { describeEachDialect, type Harness } from "../../../helpers/harness.js";
import { canary, expectNoLeak, type Tree, useTreeHarness } from "../../../helpers/tree.js";

describeEachDialect("qovery variables access and secrecy", (dialect) => {
  let h: Harness;
  let t: Tree;
  const canaries: string[] = [];
  const secret = (label: string) => {
    const value = canary(label);
    canaries.push(value);
    return value;
  };
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  it("lets a member write, a viewer only list, and refuses a runtime token with 403", async () => {
    const url = `/qovery/job/${t.jobId}/secret`;
    const created = await h.inject({ method: "POST", url, payload: { key: "BY_MEMBER", value: secret("member") }, token: t.tokens.member });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    expect((await h.inject({ method: "GET", url, token: t.tokens.viewer })).statusCode).toBe(200);
    const viewerWrite = await h.inject({ method: "POST", url, payload: { key: "BY_VIEWER", value: "v" }, token: t.tokens.viewer });
    expect(viewerWrite.statusCode).toBe(403);
    expect(viewerWrite.json().detail).toContain("viewer");
    expect((await h.inject({ method: "PUT", url: `${url}/${id}`, payload: { key: "BY_MEMBER" }, token: t.tokens.viewer })).statusCode).toBe(
      403,
    );
    expect((await h.inject({ method: "DELETE", url: `/qovery/variable/${id}`, token: t.tokens.viewer })).statusCode).toBe(403);
    for (const request of [
      { method: "GET" as const, url },
      { method: "GET" as const, url: `/qovery/variable?parent_id=${t.jobId}&scope=JOB` },
      { method: "POST" as const, url, payload: { key: "BY_RUNTIME", value: "r" } },
    ]) {
      const response = await h.inject({ ...request, token: t.tokens.runtime });
      expect(response.statusCode).toBe(403);
    }
    expect((await h.inject({ method: "GET", url, token: null })).statusCode).toBe(401);
  });

  it("answers 404 to another organization's token, exactly as for a missing resource", async () => {
    const own = (
      await h.inject({ method: "POST", url: `/qovery/project/${t.projectId}/secret`, payload: { key: "MINE", value: secret("own") } })
    ).json();
    for (const request of [
      { method: "GET" as const, url: `/qovery/project/${t.projectId}/secret` },
      { method: "POST" as const, url: `/qovery/project/${t.projectId}/secret`, payload: { key: "THEIRS", value: "x" } },
      { method: "PUT" as const, url: `/qovery/variable/${own.id}`, payload: { key: "MINE", value: "x" } },
      { method: "DELETE" as const, url: `/qovery/variable/${own.id}` },
      {
        method: "POST" as const,
        url: `/qovery/variable/${own.id}/alias`,
        payload: { key: "X", alias_scope: "JOB", alias_parent_id: t.jobId },
      },
      { method: "GET" as const, url: `/qovery/variable?parent_id=${t.envId}&scope=ENVIRONMENT` },
    ]) {
      const response = await h.inject({ ...request, token: t.tokens.outsider });
      expect(response.statusCode, `${request.method} ${request.url}`).toBe(404);
    }
  });

  it("lets an environment-restricted member write in its environment but not change the project's variables", async () => {
    const envSecret = await h.inject({
      method: "POST",
      url: `/qovery/environment/${t.envId}/secret`,
      payload: { key: "ENV_MEMBER", value: secret("env-member") },
      token: t.tokens.envMember,
    });
    expect(envSecret.statusCode).toBe(201);
    const projectWrite = await h.inject({
      method: "POST",
      url: `/qovery/project/${t.projectId}/secret`,
      payload: { key: "PROJECT_BY_ENV", value: "x" },
      token: t.tokens.envMember,
    });
    expect(projectWrite.statusCode).toBe(403);
    const inherited = await h.inject({ method: "GET", url: `/qovery/environment/${t.envId}/secret`, token: t.tokens.envMember });
    expect(inherited.json().results.map((item: { key: string }) => item.key)).toContain("MINE");
    const other = await h.inject({ method: "GET", url: `/qovery/environment/${t.otherEnvId}/secret`, token: t.tokens.envMember });
    expect(other.statusCode).toBe(404);
  });

  it("never shows a secret value through any write path, and stores none in clear", async () => {
    const project = (
      await h.inject({ method: "POST", url: `/qovery/project/${t.projectId}/secret`, payload: { key: "LEAK_P", value: secret("p") } })
    ).json();
    await h.inject({
      method: "PUT",
      url: `/qovery/project/${t.projectId}/secret/${project.id}`,
      payload: { key: "LEAK_P", value: secret("edit") },
    });
    await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret/${project.id}/override`, payload: { value: secret("override") } });
    await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret/${project.id}/alias`, payload: { key: "LEAK_ALIAS" } });
    const file = await h.inject({
      method: "POST",
      url: "/qovery/variable",
      payload: {
        key: "LEAK_FILE",
        value: secret("file"),
        is_secret: true,
        mount_path: "/s",
        variable_scope: "HELM",
        variable_parent_id: t.helmId,
      },
    });
    expect(file.statusCode).toBe(201);
    await h.inject({
      method: "POST",
      url: `/qovery/variable/import?service_id=${t.jobId}&service_type=JOB`,
      payload: { overwrite: false, vars: [{ name: "LEAK_IMPORT", value: secret("import"), scope: "JOB", is_secret: true }] },
    });
    // A rule violation names the rule, never the value.
    await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret`, payload: { key: "bad key", value: secret("bad") } });
    await h.inject({ method: "POST", url: `/qovery/job/${t.jobId}/secret`, payload: { key: "LEAK_P", value: secret("dup") } });
    for (const url of [
      `/qovery/job/${t.jobId}/secret`,
      `/qovery/variable?parent_id=${t.jobId}&scope=JOB`,
      `/qovery/helm/${t.helmId}/secret`,
    ]) {
      await h.inject({ method: "GET", url });
    }
    const resolved = await h.context.variables.resolveForService(t.jobId);
    expect(resolved.variables.LEAK_P).toBe(canaries.find((value) => value.includes("override")));
    expect(resolved.variables.LEAK_ALIAS).toBe(resolved.variables.LEAK_P);
    for (const [key, value] of Object.entries(resolved.variables)) {
      if (key.endsWith("_PASSWORD") || key.includes("DATABASE_URL")) canaries.push(value);
    }
    await expectNoLeak(h, canaries);
  });
});
