// A credential created in a process whose workers run is looked for at once, not at the next
// poll: the workers poll every minute here, and the secret still succeeds within 2 s.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createContext } from "../../src/context.js";
import { loadRootKeys } from "../../src/crypto/root-key.js";
import { connect } from "../../src/db/connect.js";
import { createHarness, describeEachDialect, type Harness } from "../helpers/harness.js";
import { ADMIN } from "./exchange-bed.js";

describeEachDialect("a created credential nudges the workers of its process", (dialect) => {
  let h: Harness;
  let serve: ReturnType<typeof createContext>;
  beforeAll(async () => {
    h = await createHarness(dialect);
    const storage = connect({ databaseUrl: h.config.databaseUrl, dataDir: h.config.dataDir, poolSize: 4 });
    serve = createContext({ config: h.config, storage, rootKeys: loadRootKeys(h.config), exchange: { engine: { pollMs: 60_000 } } });
    serve.exchange.start();
    // The first look (at start) has found nothing; the next poll is a minute away.
    await new Promise((resolve) => setTimeout(resolve, 300));
  });
  afterAll(async () => {
    await serve?.close();
    await h?.close();
  });

  it("a `token` secret succeeds within 2 s although the next poll is a minute away", async () => {
    const [organization] = await serve.tree.listOrganizations(ADMIN);
    const project = await serve.tree.createProject(ADMIN, organization!.id, { name: "nudged", platform: "edge" });
    const created = await serve.credentials.create(ADMIN, project.id, {
      name: "nudged token",
      typeOf: "token",
      credentials: { token: "nudged-CANARY" },
    });
    let status = created.credential.status;
    const started = performance.now();
    while (status === "pending" && performance.now() - started < 2000) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      status = (await serve.credentials.get(ADMIN, created.credential.id)).status;
    }
    expect(status).toBe("succeeded");
  });
});
