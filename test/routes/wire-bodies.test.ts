// How every face reads a request (issue #17 items 2, 4, 5, 14): an empty JSON body is no body,
// a too-deep body is refused before any handler, JSON bodies are typed strictly while query
// strings and paths still coerce, enum errors list the allowed values, and a UUID in any case
// names the same row (paths, bodies, query strings; Reactor ids with upper-case hex too).
import { expect, it } from "vitest";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../../src/api/http/json-body.js";
import { describeEachDialect, type Harness } from "../helpers/harness.js";
import { type Tree, useTreeHarness } from "../helpers/tree.js";

const JSON_API = "application/vnd.api+json";
const reactorHeaders = { "x-api-key": "wire-test", accept: JSON_API, "content-type": JSON_API };

/** `{"a":{"a":…1…}}` nested `levels` deep, built as text (JSON.stringify would overflow first). */
function nested(levels: number, open = '{"a":', close = "}"): string {
  return `${open.repeat(levels)}1${close.repeat(levels)}`;
}

it("measures nesting in one pass, ignoring brackets inside strings and escaped quotes", () => {
  expect(nestsDeeperThan(nested(64), 64)).toBe(false);
  expect(nestsDeeperThan(nested(65), 64)).toBe(true);
  expect(nestsDeeperThan(nested(100_000, "[", "]"), 64)).toBe(true);
  expect(nestsDeeperThan(JSON.stringify({ value: "[[[[[[".repeat(100) }), 3)).toBe(false);
  expect(nestsDeeperThan(JSON.stringify({ value: `\\"${"{".repeat(100)}\\` }), 3)).toBe(false);
  expect(nestsDeeperThan(`{"a":"\\\\"}${"[".repeat(10)}`, 3)).toBe(true);
});

describeEachDialect("request bodies on every face", (dialect) => {
  let h: Harness;
  let t: Tree;
  useTreeHarness(dialect, (bed) => {
    ({ h, t } = bed);
  });

  async function signIn(): Promise<{ cookie: string; csrf: string }> {
    const session = await h.inject({
      method: "POST",
      url: "/ui/api/session",
      token: null,
      headers: { host: "latch.test", origin: "https://latch.test", "sec-fetch-site": "same-origin" },
      payload: { token: h.adminToken },
    });
    expect(session.statusCode, session.body).toBe(201);
    return { cookie: String(session.headers["set-cookie"]).split(";")[0] as string, csrf: session.json().csrf_token };
  }

  const reactorId = (prefix: string, uuid: string) => `${prefix}${uuid.replace(/-/g, "")}`;

  it("takes an empty body with a JSON content type as no body, on DELETE and elsewhere", async () => {
    const json = { "content-type": "application/json" };
    const secret = await h.inject({
      method: "POST",
      url: `/qovery/project/${t.projectId}/secret`,
      payload: { key: "EMPTY_BODY", value: "v" },
    });
    const qovery = await h.inject({ method: "DELETE", url: `/qovery/project/${t.projectId}/secret/${secret.json().id}`, headers: json });
    expect(qovery.statusCode, qovery.body).toBe(204);

    const token = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "empty-body", role: "viewer", organization_id: t.orgId },
    });
    const native = await h.inject({ method: "DELETE", url: `/v1/tokens/${token.json().id}`, headers: json });
    expect(native.statusCode, native.body).toBe(204);

    const property = await h.inject({
      method: "POST",
      url: `/reactor/companies/${reactorId("CO", t.orgId)}/properties`,
      headers: reactorHeaders,
      payload: { data: { type: "properties", attributes: { name: "empty body", platform: "edge" } } },
    });
    expect(property.statusCode, property.body).toBe(201);
    for (const type of [JSON_API, "application/json"]) {
      const read = await h.inject({
        method: "GET",
        url: `/reactor/properties/${property.json().data.id}`,
        headers: { ...reactorHeaders, "content-type": type },
      });
      expect(read.statusCode, read.body).toBe(200);
    }
    const reactor = await h.inject({
      method: "DELETE",
      url: `/reactor/properties/${property.json().data.id}`,
      headers: { ...reactorHeaders, "content-type": "application/json" },
    });
    expect(reactor.statusCode, reactor.body).toBe(204);

    const { cookie, csrf } = await signIn();
    const signOut = await h.inject({
      method: "DELETE",
      url: "/ui/api/session",
      token: null,
      headers: { ...json, cookie, "x-csrf-token": csrf, host: "latch.test", origin: "https://latch.test", "sec-fetch-site": "same-origin" },
    });
    expect(signOut.statusCode, signOut.body).toBe(204);

    // A route that needs a body says so, instead of "not valid JSON".
    const create = await h.inject({ method: "POST", url: `/qovery/project/${t.projectId}/secret`, headers: json, payload: "" });
    expect(create.statusCode).toBe(400);
    expect(create.json().detail).not.toContain("not valid JSON");
  });

  it("refuses bodies nested deeper than the limit with 400 before any handler, on every face", async () => {
    const deep = nested(4_500);
    const job = await h.inject({
      method: "POST",
      url: `/qovery/environment/${t.envId}/job`,
      headers: { "content-type": "application/json" },
      payload: `{"name":"deep","healthchecks":${deep}}`,
    });
    expect(job.statusCode, job.body).toBe(400);
    expect(job.json().detail).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);

    const secret = await h.inject({
      method: "POST",
      url: `/reactor/properties/${reactorId("PR", t.projectId)}/secrets`,
      headers: reactorHeaders,
      payload: `{"data":{"type":"secrets","attributes":{"name":"deep","type_of":"token","credentials":{"token":"x","options":${nested(5_000)}}}}}`,
    });
    expect(secret.statusCode, secret.body).toBe(400);
    expect(secret.json().errors[0]).toMatchObject({ status: "400", code: "invalid-request" });
    expect(secret.headers["content-type"]).toContain(JSON_API);

    const native = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      headers: { "content-type": "application/json" },
      payload: `{"name":"deep","role":"viewer","x":${nested(200, "[", "]")}}`,
    });
    expect(native.statusCode, native.body).toBe(400);
    expect(native.json().code).toBe("BAD_REQUEST");

    const ui = await h.inject({
      method: "POST",
      url: "/ui/api/session",
      token: null,
      headers: { "content-type": "application/json" },
      payload: `{"token":${nested(70)}}`,
    });
    expect(ui.statusCode, ui.body).toBe(400);
    expect(ui.json().detail).toContain("deeper than");

    // At the limit the body is read as usual.
    const atLimit = await h.inject({
      method: "POST",
      url: `/qovery/project/${t.projectId}/secret`,
      headers: { "content-type": "application/json" },
      payload: `{"key":"AT_LIMIT","value":"v","extra":${nested(MAX_JSON_DEPTH - 1)}}`,
    });
    expect(atLimit.statusCode, atLimit.body).toBe(201);
  });

  it("validates JSON bodies without coercion, naming the field; query strings still coerce", async () => {
    const number = await h.inject({
      method: "POST",
      url: `/qovery/project/${t.projectId}/environmentVariable`,
      payload: { key: "NUMBER", value: 42 },
    });
    expect(number.statusCode).toBe(400);
    expect(number.json().detail).toBe("body.value must be string");
    const flag = await h.inject({
      method: "POST",
      url: "/qovery/variable",
      payload: { key: "FLAG", value: "v", is_secret: "true", variable_scope: "PROJECT", variable_parent_id: t.projectId },
    });
    expect(flag.statusCode).toBe(400);
    expect(flag.json().detail).toBe("body.is_secret must be boolean");
    const nullKey = await h.inject({ method: "POST", url: `/qovery/project/${t.projectId}/secret`, payload: { key: null, value: "v" } });
    expect(nullKey.statusCode).toBe(400);
    expect(nullKey.json().detail).toBe("body.key must be string");
    const array = await h.inject({ method: "POST", url: "/v1/tokens", payload: { name: ["a"], role: "viewer", organization_id: t.orgId } });
    expect(array.statusCode).toBe(400);
    expect(array.json().detail).toContain("body.name must be string");
    const ui = await h.inject({ method: "POST", url: "/ui/api/session", token: null, payload: { token: 1234 } });
    expect(ui.statusCode).toBe(400);
    expect(ui.json().detail).toContain("body.token must be string");
    // Nothing was stored under the coerced values.
    const keys = (await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${t.projectId}&scope=PROJECT` }))
      .json()
      .results.map((v: { key: string }) => v.key);
    expect(keys).not.toContain("NUMBER");
    expect(keys).not.toContain("FLAG");

    await h.inject({
      method: "POST",
      url: "/qovery/variable",
      payload: { key: "Q_SECRET", value: "v", is_secret: true, variable_scope: "PROJECT", variable_parent_id: t.projectId },
    });
    const filtered = await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${t.projectId}&scope=PROJECT&is_secret=true` });
    expect(filtered.statusCode).toBe(200);
    const results = filtered.json().results as Array<{ key: string; is_secret: boolean }>;
    expect(results.map((v) => v.key)).toContain("Q_SECRET");
    expect(results.every((v) => v.is_secret)).toBe(true);
    const audit = await h.inject({ method: "GET", url: "/v1/audit?limit=2" });
    expect(audit.statusCode, audit.body).toBe(200);
    expect(audit.json().results).toHaveLength(2);
  });

  it("lists the allowed values of an enum", async () => {
    const scope = await h.inject({
      method: "POST",
      url: "/qovery/variable",
      payload: { key: "E", value: "v", is_secret: false, variable_scope: "GALAXY", variable_parent_id: t.projectId },
    });
    expect(scope.statusCode).toBe(400);
    expect(scope.json().detail).toBe(
      "body.variable_scope must be one of: APPLICATION, BUILT_IN, ENVIRONMENT, PROJECT, CONTAINER, JOB, HELM, TERRAFORM, AGENTIC_WORKFLOW",
    );
    const query = await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${t.projectId}&scope=NOPE` });
    expect(query.statusCode).toBe(400);
    expect(query.json().detail).toContain("querystring.scope must be one of: APPLICATION, BUILT_IN");
    const mode = await h.inject({
      method: "POST",
      url: `/qovery/project/${t.projectId}/environment`,
      payload: { name: "e", mode: "LIVE" },
    });
    expect(mode.json().detail).toBe("body.mode must be one of: DEVELOPMENT, STAGING, PRODUCTION");
  });

  it("reads a UUID in any case in paths, bodies and query strings, on every face", async () => {
    const upper = (id: string) => id.toUpperCase();
    const created = await h.inject({
      method: "POST",
      url: "/qovery/variable",
      payload: { key: "CASED", value: "v", is_secret: false, variable_scope: "ENVIRONMENT", variable_parent_id: upper(t.envId) },
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id as string;
    const listed = await h.inject({ method: "GET", url: `/qovery/variable?parent_id=${upper(t.envId)}&scope=ENVIRONMENT` });
    expect(listed.json().results.map((v: { key: string }) => v.key)).toContain("CASED");
    const legacy = await h.inject({ method: "GET", url: `/qovery/environment/${upper(t.envId)}/environmentVariable` });
    expect(legacy.statusCode).toBe(200);
    expect(legacy.json().results.map((v: { id: string }) => v.id)).toContain(id);
    const edited = await h.inject({
      method: "PUT",
      url: `/qovery/environment/${upper(t.envId)}/environmentVariable/${upper(id)}`,
      payload: { key: "CASED", value: "w" },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({ id, value: "w" });
    const project = await h.inject({ method: "GET", url: `/qovery/project/${upper(t.projectId)}` });
    expect(project.json().id).toBe(t.projectId);

    const versions = await h.inject({ method: "GET", url: `/v1/variables/${upper(id)}/versions` });
    expect(versions.statusCode, versions.body).toBe(200);
    const token = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "cased", role: "runtime", organization_id: upper(t.orgId), service_id: upper(t.jobId) },
    });
    expect(token.statusCode, token.body).toBe(201);
    expect(token.json()).toMatchObject({ organization_id: t.orgId, service_id: t.jobId });
    const runtime = await h.inject({ method: "GET", url: `/v1/runtime/services/${upper(t.jobId)}`, token: token.json().token });
    expect(runtime.statusCode, runtime.body).toBe(200);
    const audit = await h.inject({ method: "GET", url: `/v1/audit?organization_id=${upper(t.orgId)}&resource=${upper(id)}` });
    expect(audit.statusCode).toBe(200);
    expect(audit.json().results.length).toBeGreaterThan(0);
    const member = await h.inject({
      method: "POST",
      url: "/v1/tokens",
      payload: { name: "cased-member", role: "member", organization_id: t.orgId },
    });
    const write = await h.inject({
      method: "PUT",
      url: `/qovery/variable/${id}`,
      payload: { key: "CASED", value: "x" },
      token: member.json().token,
    });
    expect(write.statusCode).toBe(200);
    const byActor = await h.inject({ method: "GET", url: `/v1/audit?actor=${upper(member.json().id)}&organization_id=${t.orgId}` });
    expect(byActor.json().results.map((event: { action: string }) => event.action)).toContain("variable.update");

    const { cookie } = await signIn();
    const matrix = await h.inject({ method: "GET", url: `/ui/api/services/${upper(t.jobId)}/matrix`, token: null, headers: { cookie } });
    expect(matrix.statusCode, matrix.body).toBe(200);

    const property = await h.inject({
      method: "GET",
      url: `/reactor/properties/PR${t.projectId.replace(/-/g, "").toUpperCase()}`,
      headers: reactorHeaders,
    });
    expect(property.statusCode, property.body).toBe(200);
    expect(property.json().data.id).toBe(reactorId("PR", t.projectId));
    const companies = await h.inject({
      method: "GET",
      url: "/reactor/companies",
      headers: { ...reactorHeaders, "x-gw-ims-org-id": upper(t.orgId) },
    });
    expect(companies.statusCode, companies.body).toBe(200);
  });
});
