// The rules that used to sit in the Reactor routes hold in the modules, for every caller (the
// Qovery face, the dashboard, a worker), and module errors name the field at fault (`details.field`,
// src/errors.ts) instead of a JSON:API pointer: only a face knows where a field sits on its wire.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppError } from "../../src/errors.js";
import { checkKey } from "../../src/modules/variables/rules.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { instanceAdmin, refusal } from "../helpers/rejections.js";

const ADMIN = instanceAdmin("domain rules");

/** A module error names its field and carries no wire location. */
function expectField(error: AppError, code: string, field: string): void {
  expect({ code: error.code, field: error.details.field }).toEqual({ code, field });
  expect(error.details.pointer).toBeUndefined();
  expect(JSON.stringify(error.details)).not.toContain("/data");
}

describe("variables rules name their field", () => {
  it("a bad key is refused naming `key` (or the field the caller names), not a pointer", () => {
    const thrown = (run: () => void) => {
      try {
        run();
      } catch (error) {
        return error as AppError;
      }
      throw new Error("expected a refusal");
    };
    expectField(
      thrown(() => checkKey("1abc")),
      "VARIABLE_RULE_VIOLATION",
      "key",
    );
    expectField(
      thrown(() => checkKey("LATCH_X", "vars.3.name")),
      "VARIABLE_RULE_VIOLATION",
      "vars.3.name",
    );
  });
});

describeEachDialect("domain rules live in the modules", (dialect) => {
  let h: Harness;
  let organizationId: string;
  let counter = 0;
  const unique = (label: string) => `${label} ${++counter}`;

  beforeAll(async () => {
    h = await createHarness(dialect);
    const [organization] = await h.context.tree.listOrganizations(ADMIN);
    organizationId = (organization as { id: string }).id;
  });
  afterAll(async () => h?.close());

  const edge = () => h.context.tree.createProject(ADMIN, organizationId, { name: unique("edge"), platform: "edge" });

  describe("tree: projects", () => {
    it("a web project needs a domain, on create and on update", async () => {
      const tree = h.context.tree;
      expectField(
        await refusal(tree.createProject(ADMIN, organizationId, { name: unique("web"), platform: "web" })),
        "VALIDATION_FAILED",
        "domains",
      );
      expectField(
        await refusal(tree.createProject(ADMIN, organizationId, { name: unique("web"), platform: "web", attributes: { domains: [] } })),
        "VALIDATION_FAILED",
        "domains",
      );
      const web = await tree.createProject(ADMIN, organizationId, {
        name: unique("web"),
        platform: "web",
        attributes: { domains: ["example.test"] },
      });
      expectField(await refusal(tree.updateProject(ADMIN, web.id, { attributes: { domains: [] } })), "VALIDATION_FAILED", "domains");
      // A project created without a platform is edge (the Qovery face's), and needs none.
      expect((await tree.createProject(ADMIN, organizationId, { name: unique("qovery") })).platform).toBe("edge");
    });

    it("a platform never changes; naming the project's own is fine", async () => {
      const project = await edge();
      expectField(await refusal(h.context.tree.updateProject(ADMIN, project.id, { platform: "web" })), "VALIDATION_FAILED", "platform");
      const renamed = await h.context.tree.updateProject(ADMIN, project.id, { platform: "edge", name: unique("renamed") });
      expect(renamed.platform).toBe("edge");
    });

    it("privacy is optin or optout", async () => {
      const refused = await refusal(
        h.context.tree.createProject(ADMIN, organizationId, {
          name: unique("privacy"),
          attributes: { privacy: "maybe" as "optin" },
        }),
      );
      expectField(refused, "VALIDATION_FAILED", "privacy");
    });
  });

  describe("tree: hosts and environments", () => {
    it("host types are akamai and sftp; a type never changes; an akamai host keeps no connection settings", async () => {
      const project = await edge();
      const tree = h.context.tree;
      expectField(
        await refusal(tree.createHost(ADMIN, project.id, { name: "ftp", typeOf: "ftp" as "sftp" })),
        "VALIDATION_FAILED",
        "type_of",
      );
      const akamai = await tree.createHost(ADMIN, project.id, { name: "managed", typeOf: "akamai", attributes: { server: "x.test" } });
      expect(akamai.attributes).toEqual({});
      const sftp = await tree.createHost(ADMIN, project.id, { name: "own", typeOf: "sftp", attributes: { server: "x.test", port: 22 } });
      expect(sftp.attributes).toEqual({ server: "x.test", port: 22 });
      expectField(await refusal(tree.updateHost(ADMIN, sftp.id, { typeOf: "akamai" })), "VALIDATION_FAILED", "type_of");
      expect((await tree.updateHost(ADMIN, akamai.id, { typeOf: "akamai", attributes: { port: 22 } })).attributes).toEqual({});
    });

    it("an environment keeps no archive passphrase and never changes stage", async () => {
      const project = await edge();
      const tree = h.context.tree;
      expectField(
        await refusal(
          tree.createEnvironment(ADMIN, project.id, { name: "pass", mode: "DEVELOPMENT", attributes: { archive_passphrase: "p" } }),
        ),
        "VALIDATION_FAILED",
        "archive_passphrase",
      );
      const development = await tree.createEnvironment(ADMIN, project.id, { name: "dev", mode: "DEVELOPMENT" });
      expectField(await refusal(tree.updateEnvironment(ADMIN, development.id, { mode: "PRODUCTION" })), "VALIDATION_FAILED", "mode");
      expectField(
        await refusal(tree.updateEnvironment(ADMIN, development.id, { attributes: { archive_passphrase: "p" } })),
        "VALIDATION_FAILED",
        "archive_passphrase",
      );
      // PREVIEW and DEVELOPMENT are one stage: naming either keeps the environment as it is.
      const preview = await tree.createEnvironment(ADMIN, project.id, { name: "preview", mode: "PREVIEW" });
      expect((await tree.updateEnvironment(ADMIN, preview.id, { mode: "DEVELOPMENT", name: "preview 2" })).mode).toBe("PREVIEW");
      const otherHost = await tree.createHost(ADMIN, (await edge()).id, { name: "elsewhere", typeOf: "akamai" });
      expectField(
        await refusal(tree.createEnvironment(ADMIN, project.id, { name: "foreign", mode: "DEVELOPMENT", hostId: otherHost.id })),
        "UNPROCESSABLE",
        "host_id",
      );
    });
  });

  describe("credentials and notes", () => {
    it("lists every credential problem by field, and names the environment and the action", async () => {
      const project = await edge();
      const credentials = h.context.credentials;
      const bad = await refusal(credentials.create(ADMIN, project.id, { name: unique("oauth2"), typeOf: "oauth2", credentials: {} }));
      expectField(bad, "UNPROCESSABLE", "credentials.client_id");
      expect(bad.details.issues?.map((issue) => issue.field)).toEqual([
        "credentials.client_id",
        "credentials.client_secret",
        "credentials.token_url",
      ]);
      const elsewhere = await h.context.tree.createEnvironment(ADMIN, (await edge()).id, { name: "other", mode: "DEVELOPMENT" });
      expectField(
        await refusal(
          credentials.create(ADMIN, project.id, {
            name: unique("token"),
            typeOf: "token",
            credentials: { token: "t" },
            environmentId: elsewhere.id,
          }),
        ),
        "UNPROCESSABLE",
        "environment_id",
      );
      const token = await credentials.create(ADMIN, project.id, { name: unique("token"), typeOf: "token", credentials: { token: "t" } });
      expectField(await refusal(credentials.runAction(ADMIN, token.credential.id, "test")), "UNPROCESSABLE", "action");
      expectField(await refusal(credentials.update(ADMIN, token.credential.id, { typeOf: "oauth2" })), "UNPROCESSABLE", "type_of");
      expectField(await refusal(credentials.update(ADMIN, token.credential.id, { name: " " })), "UNPROCESSABLE", "name");
    });

    it("a note's text is 1 to 512 characters", async () => {
      const project = await edge();
      expectField(await refusal(h.context.notes.create(ADMIN, "properties", project.id, "x".repeat(513))), "UNPROCESSABLE", "text");
      expectField(await refusal(h.context.notes.create(ADMIN, "properties", project.id, " ")), "UNPROCESSABLE", "text");
    });
  });

  it("the Qovery face passes only what it declares: a Qovery project is an edge one without Reactor settings", async () => {
    const response = await h.inject({
      method: "POST",
      url: `/qovery/organization/${organizationId}/project`,
      payload: { name: unique("qovery"), platform: "web", attributes: { domains: ["x.test"] } },
    });
    expect(response.statusCode, response.body).toBe(200);
    const project = await h.context.tree.loadProject(ADMIN, response.json().id, "read");
    expect({ platform: project.platform, attributes: project.attributes }).toEqual({ platform: "edge", attributes: {} });
  });
});
