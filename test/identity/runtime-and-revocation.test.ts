// One request from JWT to values (GET /v1/runtime/services/{id} with Bearer <jwt> and
// X-Latch-Identity): ETag/304 and read-your-writes like a runtime token. Deleting or disabling an
// identity revokes every token it issued, on every replica. CRUD is admin-only and audited.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createReplica, describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed } from "./bed.js";

describeEachDialect("identity: runtime JWT path, revocation, CRUD", (dialect) => {
  let bed: Bed;
  beforeAll(async () => {
    bed = await createBed(dialect, { env: { LATCH_AUTH_FAILURES_PER_MINUTE: "0" } });
  });
  afterAll(async () => bed?.close());

  it("answers the bundle to a JWT, with ETag/304 and the next write seen at once", async () => {
    const identity = await bed.createIdentity();
    const jwt = await bed.issuer.sign();
    const first = await bed.bundleWithJwt(bed.serviceA, identity.id, jwt);
    expect(first.statusCode).toBe(200);
    expect(first.headers["cache-control"]).toBe("no-store");
    expect(first.json().variables.API_SECRET).toBe(bed.secretA);
    const etag = String(first.headers.etag);
    const again = await bed.bundleWithJwt(bed.serviceA, identity.id, jwt, { "if-none-match": etag });
    expect(again.statusCode).toBe(304);
    await bed.ok("POST", `/qovery/job/${bed.serviceA}/environmentVariable`, { key: "FRESH", value: "now" });
    const after = await bed.bundleWithJwt(bed.serviceA, identity.id, jwt, { "if-none-match": etag });
    expect(after.statusCode).toBe(200);
    expect(after.json().variables.FRESH).toBe("now");
    // Outside the binding: another service is 404; a bad JWT or no JWT is the generic 401.
    expect((await bed.bundleWithJwt(bed.serviceB, identity.id, jwt)).statusCode).toBe(404);
    const forged = await bed.bundleWithJwt(bed.serviceA, identity.id, await bed.issuer.sign({ sub: "other" }));
    expect(forged.statusCode).toBe(401);
    expect(forged.json().detail).toBe("The JWT was not accepted for this identity");
    const bare = await bed.h.inject({
      method: "GET",
      url: `/v1/runtime/services/${bed.serviceA}`,
      token: null,
      headers: { "x-latch-identity": identity.id },
    });
    expect(bare.statusCode).toBe(401);
    expect(await bed.auditResults("identity.authenticate")).toContain("refused:subject");
  });

  const doing = { delete: "deleting", disable: "disabling", change: "changing the subject of" } as const;
  for (const how of ["delete", "disable", "change"] as const) {
    it(`${doing[how]} an identity revokes its tokens on every replica`, async () => {
      const identity = await bed.createIdentity();
      const tokens: string[] = [];
      for (let i = 0; i < 2; i++) tokens.push((await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() })).json().token);
      const replica = await createReplica(bed.h);
      try {
        const read = (app: typeof replica.app, token: string) =>
          app.inject({ method: "GET", url: `/v1/runtime/services/${bed.serviceA}`, headers: { authorization: `Bearer ${token}` } });
        for (const token of tokens) {
          expect((await read(bed.h.app, token)).statusCode).toBe(200);
          expect((await read(replica.app, token)).statusCode).toBe(200);
        }
        const jwt = await bed.issuer.sign();
        const direct = () =>
          replica.app.inject({
            method: "GET",
            url: `/v1/runtime/services/${bed.serviceA}`,
            headers: { authorization: `Bearer ${jwt}`, "x-latch-identity": identity.id },
          });
        expect((await direct()).statusCode).toBe(200);
        if (how === "delete") await bed.ok("DELETE", `/v1/identities/${identity.id}`);
        else if (how === "disable")
          expect((await bed.ok("PATCH", `/v1/identities/${identity.id}`, { enabled: false })).tokens_revoked).toBe(2);
        else expect((await bed.ok("PATCH", `/v1/identities/${identity.id}`, { subject: "repo:acme/api:*" })).tokens_revoked).toBe(2);
        for (const token of tokens) {
          expect((await read(bed.h.app, token)).statusCode).toBe(401);
          expect((await read(replica.app, token)).statusCode).toBe(401);
        }
        // The JWT itself: refused once the identity is gone or disabled; still good after a change that admits it.
        expect((await direct()).statusCode).toBe(how === "change" ? 200 : 401);
      } finally {
        await replica.close();
      }
    });
  }

  it("a login racing the identity's deletion leaves no live token", async () => {
    const identity = await bed.createIdentity();
    const jwts = await Promise.all(Array.from({ length: 30 }, () => bed.issuer.sign()));
    const logins = jwts.map((jwt) => bed.login({ identity_id: identity.id, jwt }));
    const deleted = bed.h.inject({ method: "DELETE", url: `/v1/identities/${identity.id}` });
    const answers = await Promise.all(logins);
    expect((await deleted).statusCode).toBe(204);
    const live = await bed.h.context.db
      .selectFrom("api_tokens")
      .select("id")
      .where("identity_id", "=", identity.id)
      .where("revoked_at", "is", null)
      .execute();
    expect(live).toEqual([]);
    for (const answer of answers.filter((a) => a.statusCode === 201)) {
      const read = await bed.h.inject({ method: "GET", url: `/v1/runtime/services/${bed.serviceA}`, token: answer.json().token });
      expect(read.statusCode).toBe(401);
    }
    // A token is only inserted while the identity is as it was verified.
    const stale = await bed.h.context.identities.store.insertIssuedToken(
      {
        id: "00000000-0000-4000-8000-0000000000aa",
        organization_id: bed.orgId,
        name: "x",
        description: null,
        role: "runtime",
        token_hash: "00".repeat(32),
        project_id: bed.projectId,
        environment_id: bed.environmentId,
        service_id: bed.serviceA,
        expires_at: new Date(Date.now() + 60_000).toISOString(),
        revoked_at: null,
        created_at: new Date().toISOString(),
        identity_id: (await bed.createIdentity()).id,
      },
      "2000-01-01T00:00:00.000Z",
    );
    expect(stale).toBe(false);
  });

  it("renaming keeps the tokens; CRUD is audited and admin-only", async () => {
    const identity = await bed.createIdentity({ name: "ci" });
    const { token } = (await bed.login({ identity_id: identity.id, jwt: await bed.issuer.sign() })).json();
    const renamed = await bed.ok("PATCH", `/v1/identities/${identity.id}`, { name: "ci-main" });
    expect(renamed.tokens_revoked).toBe(0);
    expect(renamed.name).toBe("ci-main");
    expect((await bed.h.inject({ method: "GET", url: `/v1/runtime/services/${bed.serviceA}`, token })).statusCode).toBe(200);
    const listed = await bed.ok("GET", `/v1/identities?project_id=${bed.projectId}`);
    expect(listed.results.map((i: { id: string }) => i.id)).toContain(identity.id);
    expect((await bed.ok("GET", `/v1/identities/${identity.id}`)).subject).toBe("repo:acme/api:ref:refs/heads/main");
    const taken = await bed.h.inject({
      method: "POST",
      url: "/v1/identities",
      payload: { ...identity, id: undefined, name: "CI-main", key_source: undefined },
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe("NAME_TAKEN");
    // A member may read identities but not change them; a runtime token may do neither.
    const member = await bed.ok("POST", "/v1/tokens", { name: "m", role: "member", organization_id: bed.orgId });
    const patch = await bed.h.inject({
      method: "PATCH",
      url: `/v1/identities/${identity.id}`,
      token: member.token,
      payload: { name: "x" },
    });
    expect(patch.statusCode).toBe(403);
    expect((await bed.h.inject({ method: "GET", url: "/v1/identities", token: token })).statusCode).toBe(403);
    await bed.ok("DELETE", `/v1/identities/${identity.id}`);
    expect((await bed.h.inject({ method: "GET", url: `/v1/identities/${identity.id}` })).statusCode).toBe(404);
    await bed.h.context.audit.flush();
    const events = (await bed.ok("GET", `/v1/audit?resource=${identity.id}&limit=50`)).results as Array<{ action: string; result: string }>;
    const actions = events.map((event) => event.action);
    for (const action of ["identity.create", "identity.update", "identity.delete", "identity.login"]) expect(actions).toContain(action);
  });
});
