// Reactor request bodies are validated with the schemas /openapi.json documents (body-validation.ts
// maps Ajv's first error to this face's JSON:API error). Each refusal keeps the status and the
// source.pointer the face answered when the routes validated by hand: 409 for a wrong or missing
// type, 403 for a client-chosen id, 404 for a missing parent whatever the body, 422 for the rest,
// and every credential problem at once from the credentials module.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../../helpers/harness.js";

const R = { accept: "application/vnd.api+json", "content-type": "application/vnd.api+json", "x-api-key": "Activation-DTM" };

describeEachDialect("reactor: bodies refused by their schema, with the face's statuses and pointers", (dialect) => {
  let h: Harness;
  let company: string;
  let prop: string;
  let host: string;
  let env: string;
  let sec: string;
  const create = async (url: string, data: unknown) => {
    const response = await h.inject({ method: "POST", url: `/reactor${url}`, headers: R, payload: JSON.stringify({ data }) });
    expect(response.statusCode, response.body).toBe(201);
    return response.json().data.id as string;
  };

  beforeAll(async () => {
    h = await createHarness(dialect);
    company = (await h.inject({ method: "GET", url: "/reactor/companies", headers: R })).json().data[0].id;
    prop = await create(`/companies/${company}/properties`, { type: "properties", attributes: { name: "P", platform: "edge" } });
    host = await create(`/properties/${prop}/hosts`, { type: "hosts", attributes: { name: "H", type_of: "akamai" } });
    env = await create(`/properties/${prop}/environments`, {
      type: "environments",
      attributes: { name: "E", stage: "development" },
      relationships: { host: { data: { id: host, type: "hosts" } } },
    });
    sec = await create(`/properties/${prop}/secrets`, {
      type: "secrets",
      attributes: { name: "S", type_of: "token", credentials: { token: "t" } },
    });
  });
  afterAll(async () => h?.close());

  it("answers each bad body with its status, pointers and a detail naming the member", async () => {
    const cases: Array<[string, number, Array<string | null>, string, string, unknown]> = [
      ["no body", 422, ["/data"], "POST", `/companies/${company}/properties`, undefined],
      ["data array", 422, ["/data"], "POST", `/companies/${company}/properties`, { data: [] }],
      [
        "no type",
        409,
        ["/data/type"],
        "POST",
        `/companies/${company}/properties`,
        { data: { attributes: { name: "x", platform: "edge" } } },
      ],
      [
        "id on create",
        403,
        ["/data/id"],
        "POST",
        `/companies/${company}/properties`,
        { data: { id: "x", type: "properties", attributes: { name: "x", platform: "edge" } } },
      ],
      ["no attributes", 422, ["/data/attributes/name"], "POST", `/companies/${company}/properties`, { data: { type: "properties" } }],
      [
        "attributes null",
        422,
        ["/data/attributes"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: null } },
      ],
      [
        "no name",
        422,
        ["/data/attributes/name"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { platform: "edge" } } },
      ],
      [
        "blank name",
        422,
        ["/data/attributes/name"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { name: " ", platform: "edge" } } },
      ],
      [
        "long name",
        422,
        ["/data/attributes/name"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { name: "x".repeat(256), platform: "edge" } } },
      ],
      [
        "platform tv",
        422,
        ["/data/attributes/platform"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { name: "x", platform: "tv" } } },
      ],
      [
        "no platform",
        422,
        ["/data/attributes/platform"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { name: "x" } } },
      ],
      [
        "web no domains",
        422,
        ["/data/attributes/domains"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { name: "x", platform: "web" } } },
      ],
      [
        "web empty domains",
        422,
        ["/data/attributes/domains"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { name: "x", platform: "web", domains: [] } } },
      ],
      [
        "privacy",
        422,
        ["/data/attributes/privacy"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { name: "x", platform: "edge", privacy: "m" } } },
      ],
      [
        "dev string",
        422,
        ["/data/attributes/development"],
        "POST",
        `/companies/${company}/properties`,
        { data: { type: "properties", attributes: { name: "x", platform: "edge", development: "yes" } } },
      ],
      [
        "prop platform change",
        422,
        ["/data/attributes/platform"],
        "PATCH",
        `/properties/${prop}`,
        { data: { id: prop, type: "properties", attributes: { platform: "web" } } },
      ],
      [
        "prop id mismatch",
        409,
        ["/data/id"],
        "PATCH",
        `/properties/${prop}`,
        { data: { id: company, type: "properties", attributes: {} } },
      ],
      ["prop no id", 422, ["/data/id"], "PATCH", `/properties/${prop}`, { data: { type: "properties", attributes: {} } }],
      [
        "company other attr",
        422,
        ["/data/attributes/name"],
        "PATCH",
        `/companies/${company}`,
        { data: { id: company, type: "companies", attributes: { name: "x" } } },
      ],
      [
        "company bad org",
        422,
        ["/data/attributes/org_id"],
        "PATCH",
        `/companies/${company}`,
        { data: { id: company, type: "companies", attributes: { org_id: "nope" } } },
      ],
      [
        "host ftp",
        422,
        ["/data/attributes/type_of"],
        "POST",
        `/properties/${prop}/hosts`,
        { data: { type: "hosts", attributes: { name: "x", type_of: "ftp" } } },
      ],
      [
        "host port str",
        422,
        ["/data/attributes/port"],
        "POST",
        `/properties/${prop}/hosts`,
        { data: { type: "hosts", attributes: { name: "x", type_of: "sftp", port: "22" } } },
      ],
      [
        "host type change",
        422,
        ["/data/attributes/type_of"],
        "PATCH",
        `/hosts/${host}`,
        { data: { id: host, type: "hosts", attributes: { type_of: "sftp" } } },
      ],
      [
        "env no host",
        422,
        ["/data/relationships/host"],
        "POST",
        `/properties/${prop}/environments`,
        { data: { type: "environments", attributes: { name: "x", stage: "development" } } },
      ],
      [
        "env host null",
        422,
        ["/data/relationships/host"],
        "POST",
        `/properties/${prop}/environments`,
        { data: { type: "environments", attributes: { name: "x", stage: "development" }, relationships: { host: { data: null } } } },
      ],
      [
        "env host {}",
        422,
        ["/data/relationships/host"],
        "POST",
        `/properties/${prop}/environments`,
        { data: { type: "environments", attributes: { name: "x", stage: "development" }, relationships: { host: {} } } },
      ],
      [
        "env host wrong type",
        409,
        ["/data/relationships/host/data/type"],
        "POST",
        `/properties/${prop}/environments`,
        {
          data: {
            type: "environments",
            attributes: { name: "x", stage: "development" },
            relationships: { host: { data: { id: host, type: "x" } } },
          },
        },
      ],
      [
        "env host bad id",
        422,
        ["/data/relationships/host/data/id"],
        "POST",
        `/properties/${prop}/environments`,
        {
          data: {
            type: "environments",
            attributes: { name: "x", stage: "development" },
            relationships: { host: { data: { id: prop, type: "hosts" } } },
          },
        },
      ],
      [
        "env stage qa",
        422,
        ["/data/attributes/stage"],
        "POST",
        `/properties/${prop}/environments`,
        {
          data: {
            type: "environments",
            attributes: { name: "x", stage: "qa" },
            relationships: { host: { data: { id: host, type: "hosts" } } },
          },
        },
      ],
      [
        "env passphrase",
        422,
        ["/data/attributes/archive_passphrase"],
        "POST",
        `/properties/${prop}/environments`,
        {
          data: {
            type: "environments",
            attributes: { name: "x", stage: "development", archive_passphrase: "p" },
            relationships: { host: { data: { id: host, type: "hosts" } } },
          },
        },
      ],
      [
        "env stage change",
        422,
        ["/data/attributes/stage"],
        "PATCH",
        `/environments/${env}`,
        { data: { id: env, type: "environments", attributes: { stage: "production" } } },
      ],
      [
        "sec no name",
        422,
        ["/data/attributes/name"],
        "POST",
        `/properties/${prop}/secrets`,
        { data: { type: "secrets", attributes: { type_of: "token", credentials: { token: "t" } } } },
      ],
      [
        "sec bad type_of",
        422,
        ["/data/attributes/type_of"],
        "POST",
        `/properties/${prop}/secrets`,
        { data: { type: "secrets", attributes: { name: "x", type_of: "oauth3", credentials: {} } } },
      ],
      [
        "sec no creds",
        422,
        ["/data/attributes/credentials"],
        "POST",
        `/properties/${prop}/secrets`,
        { data: { type: "secrets", attributes: { name: "x", type_of: "token" } } },
      ],
      [
        "sec creds str",
        422,
        ["/data/attributes/credentials"],
        "POST",
        `/properties/${prop}/secrets`,
        { data: { type: "secrets", attributes: { name: "x", type_of: "token", credentials: "t" } } },
      ],
      [
        "sec oauth2 empty",
        422,
        ["/data/attributes/credentials/client_id", "/data/attributes/credentials/client_secret", "/data/attributes/credentials/token_url"],
        "POST",
        `/properties/${prop}/secrets`,
        { data: { type: "secrets", attributes: { name: "x", type_of: "oauth2", credentials: {} } } },
      ],
      [
        "sec env garbage",
        422,
        ["/data/relationships/environment/data/id"],
        "POST",
        `/properties/${prop}/secrets`,
        {
          data: {
            type: "secrets",
            attributes: { name: "x", type_of: "token", credentials: { token: "t" } },
            relationships: { environment: { data: { id: "garbage", type: "environments" } } },
          },
        },
      ],
      [
        "sec env foreign",
        422,
        ["/data/relationships/environment/data/id"],
        "POST",
        `/properties/${prop}/secrets`,
        {
          data: {
            type: "secrets",
            attributes: { name: "x", type_of: "token", credentials: { token: "t" } },
            relationships: { environment: { data: { id: `EN${"0".repeat(32)}`, type: "environments" } } },
          },
        },
      ],
      [
        "sec taken",
        422,
        ["/data/attributes/name"],
        "POST",
        `/properties/${prop}/secrets`,
        { data: { type: "secrets", attributes: { name: "S", type_of: "token", credentials: { token: "t" } } } },
      ],
      [
        "patch explode",
        422,
        ["/data/meta/action"],
        "PATCH",
        `/secrets/${sec}`,
        { data: { id: sec, type: "secrets", meta: { action: "explode" } } },
      ],
      [
        "patch test token",
        422,
        ["/data/meta/action"],
        "PATCH",
        `/secrets/${sec}`,
        { data: { id: sec, type: "secrets", meta: { action: "test" } } },
      ],
      [
        "patch type_of",
        422,
        ["/data/attributes/type_of"],
        "PATCH",
        `/secrets/${sec}`,
        { data: { id: sec, type: "secrets", attributes: { type_of: "oauth2" } } },
      ],
      [
        "patch env change null",
        200,
        [],
        "PATCH",
        `/secrets/${sec}`,
        { data: { id: sec, type: "secrets", relationships: { environment: { data: null } } } },
      ],
      [
        "patch creds extra",
        422,
        ["/data/attributes/credentials/extra"],
        "PATCH",
        `/secrets/${sec}`,
        { data: { id: sec, type: "secrets", attributes: { credentials: { token: "t", extra: 1 } } } },
      ],
      [
        "note long",
        422,
        ["/data/attributes/text"],
        "POST",
        `/secrets/${sec}/notes`,
        { data: { type: "notes", attributes: { text: "x".repeat(513) } } },
      ],
      ["note none", 422, ["/data/attributes/text"], "POST", `/secrets/${sec}/notes`, { data: { type: "notes" } }],
      ["note 42", 422, ["/data/attributes/text"], "POST", `/secrets/${sec}/notes`, { data: { type: "notes", attributes: { text: 42 } } }],
      ["404 first", 404, [null], "POST", `/properties/PR${"0".repeat(32)}/secrets`, { data: [] }],
    ];

    const seen: string[] = [];
    for (const [name, , , method, url, body] of cases) {
      const response = await h.inject({
        method: method as "POST" | "PATCH",
        url: `/reactor${url}`,
        headers: R,
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      const errors: Array<{ status: string; detail: string; source?: { pointer?: string } }> =
        response.statusCode >= 400 ? response.json().errors : [];
      seen.push(`${name}: ${response.statusCode} ${JSON.stringify(errors.map((error) => error.source?.pointer ?? null))}`);
      for (const error of errors) {
        expect(error.status, name).toBe(String(response.statusCode));
        // The detail names the member at fault (its last named segment), never "undefined".
        const segments = (error.source?.pointer ?? "").split("/").filter((part) => part !== "" && part !== "data" && part !== "id");
        if (segments.length > 0)
          expect(
            segments.some((segment) => error.detail.includes(segment)),
            `${name}: ${error.detail}`,
          ).toBe(true);
        expect(error.detail, name).not.toContain("undefined");
      }
    }
    expect(seen).toEqual(cases.map(([name, status, pointers]) => `${name}: ${status} ${JSON.stringify(pointers)}`));
  });
});
