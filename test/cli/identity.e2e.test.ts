// `latch login|run|export --identity ID --jwt-file PATH | --jwt-env VAR` against a real server
// process and the loopback OIDC issuer. SQLite only, like cli.e2e.test.ts: each call is a process.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDotenv } from "../../src/cli/dotenv.js";
import { createLatchClient, loginWithJwt } from "../../src/sdk/index.js";
import { type CliResult, type CliUser, createCliUser, type Server, startServer } from "../helpers/cli.js";
import { type OidcIssuer, startOidcIssuer } from "../helpers/oidc-issuer.js";

function ok(result: CliResult): string {
  if (result.code !== 0) throw new Error(`exit ${result.code} ${result.signal ?? ""}\n${result.stderr}`);
  return result.stdout;
}

describe("latch CLI with a workload identity [sqlite]", { timeout: 90_000 }, () => {
  let server: Server;
  let user: CliUser;
  let issuer: OidcIssuer;
  let identityId: string;
  let serviceId: string;
  const secret = `identity-secret-${Math.random().toString(36).slice(2)}`;
  const jwts: string[] = [];

  async function freshJwt(): Promise<string> {
    const jwt = await issuer.sign({ sub: "system:serviceaccount:prod:api", aud: "latch" });
    jwts.push(jwt);
    return jwt;
  }

  beforeAll(async () => {
    issuer = await startOidcIssuer({ algorithms: ["ES256"] });
    server = await startServer("sqlite", { LATCH_OUTBOUND_ALLOW_HTTP: "on", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
    user = createCliUser();
    const admin = createLatchClient({ url: server.url, token: server.adminToken });
    const org = (await admin.tree.listOrganizations())[0];
    if (org === undefined) throw new Error("no organization");
    const project = await admin.tree.createProject(org.id, { name: "shop" });
    const environment = await admin.tree.createEnvironment(project.id, { name: "prod", mode: "PRODUCTION" });
    serviceId = (await admin.tree.createService(environment.id, "JOB", { name: "api", healthchecks: {} })).id;
    await admin.variables.create({
      key: "API_SECRET",
      value: secret,
      is_secret: true,
      variable_scope: "JOB",
      variable_parent_id: serviceId,
    });
    identityId = (
      await admin.identities.create({
        name: "k8s-api",
        organization_id: org.id,
        service_id: serviceId,
        issuer: issuer.url,
        audiences: ["latch"],
        subject: "system:serviceaccount:prod:*",
        max_uses_per_jwt: 1,
      })
    ).id;
  });
  afterAll(async () => {
    await server?.stop();
    user?.cleanup();
    await issuer?.close();
  });

  it("the SDK's loginWithJwt gives a client bound to the identity's service", async () => {
    const { client, service_id } = await loginWithJwt({ url: server.url, identityId, jwt: await freshJwt() });
    expect(service_id).toBe(serviceId);
    const result = await client.runtime.bundle(serviceId);
    expect(result.changed && result.bundle.variables.API_SECRET).toBe(secret);
  });

  it("logs in with --jwt-file, then exports with the stored token", async () => {
    const file = join(user.home, "token");
    writeFileSync(file, `${await freshJwt()}\n`);
    const login = await user.run(["login", "--url", server.url, "--identity", identityId, "--jwt-file", file]);
    ok(login);
    expect(login.stderr).toContain(`service ${serviceId}`);
    const exported = ok(await user.run(["export", "--service", serviceId]));
    expect(parseDotenv(exported).API_SECRET).toBe(secret);
  });

  it("exports and runs with --identity, reading the JWT again for each login (single-use JWTs)", async () => {
    const file = join(user.home, "projected-token");
    writeFileSync(file, await freshJwt());
    const exported = ok(await user.run(["export", "--identity", identityId, "--jwt-file", file], { env: { LATCH_URL: server.url } }));
    expect(parseDotenv(exported).API_SECRET).toBe(secret);
    // The same (single-use) JWT again is refused with a message that says where to look.
    const replay = await user.run(["export", "--identity", identityId, "--jwt-file", file], { env: { LATCH_URL: server.url } });
    expect(replay.code).toBe(1);
    expect(replay.stderr).toContain("audit log");
    // Rotated in place, as Kubernetes does: the next login reads the new one.
    writeFileSync(file, await freshJwt());
    const report = join(user.home, "report.txt");
    const run = await user.run(
      [
        "run",
        "--identity",
        identityId,
        "--jwt-file",
        file,
        "--",
        "node",
        "-e",
        `require("fs").writeFileSync(${JSON.stringify(report)}, process.env.API_SECRET)`,
      ],
      { env: { LATCH_URL: server.url } },
    );
    ok(run);
    expect(readFileSync(report, "utf8")).toBe(secret);
    const viaEnv = await user.run(["export", "--identity", identityId, "--jwt-env", "MY_ID_TOKEN", "--format", "json"], {
      env: { LATCH_URL: server.url, MY_ID_TOKEN: await freshJwt() },
    });
    expect(JSON.parse(ok(viaEnv)).API_SECRET).toBe(secret);
    const usage = await user.run(["export", "--identity", identityId], { env: { LATCH_URL: server.url } });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("--jwt-file");
  });

  it("never prints a JWT (stdout, stderr, server log)", async () => {
    const output = server.output();
    for (const jwt of jwts) expect(output).not.toContain(jwt);
  });
});
