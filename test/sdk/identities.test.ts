// The SDK's identity calls on both engines against a listening server: client.identities CRUD and
// loginWithJwt (by id, and by name with the organization), whose client reads the bound service.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createLatchClient, LatchError, loginWithJwt } from "../../src/sdk/index.js";
import { describeEachDialect } from "../helpers/harness.js";
import { type Bed, createBed } from "../identity/bed.js";

describeEachDialect("latch/sdk identities", (dialect) => {
  let bed: Bed;
  let url: string;
  beforeAll(async () => {
    bed = await createBed(dialect, { env: { LATCH_AUTH_FAILURES_PER_MINUTE: "0" } });
    url = await bed.h.app.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => bed?.close());

  it("creates, reads, updates and deletes identities, and logs in with a JWT", async () => {
    const admin = createLatchClient({ url, token: bed.h.adminToken, retries: 0 });
    const identity = await admin.identities.create({
      name: "sdk-ci",
      organization_id: bed.orgId,
      service_id: bed.serviceA,
      issuer: bed.issuer.url,
      audiences: ["latch"],
      subject: "repo:acme/*",
      jwks_uri: bed.issuer.jwksUrl,
    });
    expect((await admin.identities.list({ projectId: bed.projectId })).map((i) => i.id)).toContain(identity.id);
    expect((await admin.identities.get(identity.id)).token_ttl).toBe(900);

    const byId = await loginWithJwt({ url, identityId: identity.id, jwt: await bed.issuer.sign() });
    expect(byId.service_id).toBe(bed.serviceA);
    const bundle = await byId.client.runtime.bundle(bed.serviceA);
    expect(bundle.changed && bundle.bundle.variables.API_SECRET).toBe(bed.secretA);
    const byName = await loginWithJwt({ url, identity: "sdk-ci", organizationId: bed.orgId, jwt: await bed.issuer.sign() });
    expect(byName.identity_id).toBe(identity.id);

    expect((await admin.identities.update(identity.id, { enabled: false })).tokens_revoked).toBe(2);
    const refused = await loginWithJwt({ url, identityId: identity.id, jwt: await bed.issuer.sign() }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LatchError);
    expect((refused as LatchError).status).toBe(401);
    await expect(byId.client.runtime.bundle(bed.serviceA)).rejects.toMatchObject({ status: 401 });
    await admin.identities.delete(identity.id);
    await expect(admin.identities.get(identity.id)).rejects.toMatchObject({ status: 404 });
  });
});
