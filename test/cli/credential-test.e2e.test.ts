// `latch credentials test` against a real server and a loopback token endpoint: the server now
// answers the test action 200 whatever the exchange gives (issue 17 item 10), so the CLI must
// read test_exchange.failure: a failed exchange exits 1 with the reason, a good one exits 0, and
// no token or client secret is ever printed.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliResult, type CliUser, createCliUser, type Server, startServer } from "../helpers/cli.js";
import { newAccessToken, startTokenServer, type TokenServer } from "../helpers/token-server.js";

function ok(result: CliResult): string {
  expect(result.code, result.stderr).toBe(0);
  return result.stdout;
}

describe("latch credentials test [sqlite]", { timeout: 90_000 }, () => {
  let server: Server;
  let user: CliUser;
  let tokens: TokenServer;
  const clientSecret = `cs-CANARY-${randomBytes(8).toString("hex")}`;

  beforeAll(async () => {
    tokens = await startTokenServer();
    server = await startServer("sqlite", { LATCH_OUTBOUND_ALLOW_HTTP: "1", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    user = createCliUser();
    ok(await user.run(["login", "--url", server.url], { stdin: `${server.adminToken}\n` }));
  });
  afterAll(async () => {
    await server?.stop();
    user?.cleanup();
    await tokens?.close();
  });

  it("exits 1 with the reason when the exchange fails, 0 when it succeeds, on a failed credential too", async () => {
    const organizationId = ok(await user.run(["orgs", "create", "acme"])).trim();
    const projectId = ok(await user.run(["projects", "create", "shop", "--org", organizationId])).trim();
    const environmentId = ok(await user.run(["envs", "create", "prod", "--project", projectId, "--mode", "production"])).trim();
    tokens.behave({ kind: "status", status: 401, json: { error: "invalid_client", error_description: "unknown client" } });
    const created = await user.run(
      ["credentials", "create", "--project", projectId, "--env", environmentId, "--name", "api", "--type", "oauth2", "--wait"],
      { stdin: JSON.stringify({ client_id: "c", client_secret: clientSecret, token_url: `${tokens.url}/token` }) },
    );
    const id = created.stdout.trim();
    expect(id).toMatch(/^SE[0-9a-f]{32}$/);
    expect(created.stderr).toContain("failed");

    const refused = await user.run(["credentials", "test", id]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^latch: Test exchange of api failed: Token endpoint rejected the credentials/);

    const accessToken = newAccessToken();
    tokens.behave({ kind: "ok", accessToken, expiresIn: 86400 });
    const passed = await user.run(["credentials", "test", id]);
    expect(passed.code, passed.stderr).toBe(0);
    expect(passed.stderr).toContain("Test exchange of api succeeded");
    expect(passed.stderr).toContain("expires_in=86400");
    const json = await user.run(["credentials", "test", id, "--json"]);
    expect(JSON.parse(ok(json)).test_exchange).toEqual({ token_type: "Bearer", expires_in: 86400 });

    for (const result of [created, refused, passed, json]) {
      expect(result.stdout + result.stderr).not.toContain(clientSecret);
      expect(result.stdout + result.stderr).not.toContain("at-CANARY");
    }
    expect(server.output()).not.toContain(clientSecret);
    expect(server.output()).not.toContain(accessToken);
  });
});
