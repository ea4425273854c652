// Names are unique among siblings, ignoring case (tree-store's siblingNameTaken, checked before
// the write; the unique index only backs it up against a race): a project among its
// organization's projects, an environment among its project's, a service among its
// environment's. A rename may keep its own name in another case, and the same name under
// another parent is free.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { instanceAdmin, refusal } from "../helpers/rejections.js";

const ADMIN = instanceAdmin("sibling names");

const codeOf = (promise: Promise<unknown>) => refusal(promise).then((error) => error.code);

describeEachDialect("sibling names", (dialect) => {
  let h: Harness;
  let organizationId: string;

  beforeAll(async () => {
    h = await createHarness(dialect);
    const [organization] = await h.context.tree.listOrganizations(ADMIN);
    organizationId = (organization as { id: string }).id;
  });
  afterAll(async () => h?.close());

  it("a project renamed keeps its own name in another case, and cannot take a sibling's in any case", async () => {
    const tree = h.context.tree;
    const billing = await tree.createProject(ADMIN, organizationId, { name: "Billing" });
    await tree.createProject(ADMIN, organizationId, { name: "Shipping" });
    expect((await tree.updateProject(ADMIN, billing.id, { name: "BILLING" })).name).toBe("BILLING");
    expect(await codeOf(tree.updateProject(ADMIN, billing.id, { name: "shipping" }))).toBe("NAME_TAKEN");
    expect(await codeOf(tree.createProject(ADMIN, organizationId, { name: "billing" }))).toBe("NAME_TAKEN");
    expect((await tree.loadProject(ADMIN, billing.id, "read")).name).toBe("BILLING");
  });

  it("an environment's and a service's name are taken only under their own parent", async () => {
    const tree = h.context.tree;
    const one = await tree.createProject(ADMIN, organizationId, { name: "One" });
    const two = await tree.createProject(ADMIN, organizationId, { name: "Two" });
    const prodOne = await tree.createEnvironment(ADMIN, one.id, { name: "prod", mode: "PRODUCTION" });
    // The same name in another project is free; in the same project it is taken, in any case.
    const prodTwo = await tree.createEnvironment(ADMIN, two.id, { name: "Prod", mode: "PRODUCTION" });
    expect(prodTwo.name).toBe("Prod");
    expect(await codeOf(tree.createEnvironment(ADMIN, one.id, { name: "PROD", mode: "STAGING" }))).toBe("NAME_TAKEN");
    const staging = await tree.createEnvironment(ADMIN, one.id, { name: "staging", mode: "STAGING" });
    expect(await codeOf(tree.updateEnvironment(ADMIN, staging.id, { name: "Prod" }))).toBe("NAME_TAKEN");
    expect((await tree.updateEnvironment(ADMIN, prodOne.id, { name: "PROD" })).name).toBe("PROD");

    await tree.createService(ADMIN, prodOne.id, "JOB", { name: "api", spec: {} });
    const elsewhere = await tree.createService(ADMIN, prodTwo.id, "APPLICATION", { name: "API", spec: {} });
    expect(elsewhere.name).toBe("API");
    // Any family: a container cannot take a job's name in the same environment.
    expect(await codeOf(tree.createService(ADMIN, prodOne.id, "CONTAINER", { name: "Api", spec: {} }))).toBe("NAME_TAKEN");
  });
});
