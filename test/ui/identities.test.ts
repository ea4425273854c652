// The project's workload identities in Chromium: an identity created through the API shows on
// the project's identities screen (reached from the project tree), under the every-screen checks.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../helpers/harness.js";
import { newKey } from "../helpers/oidc-issuer.js";
import { type DashboardBed, startDashboardBed } from "./bed.js";
import { signedInPage } from "./browser.js";
import { checkScreen, watch } from "./fixture.js";
import { ACCESS_TOKEN_MARK, CANARY } from "./seed.js";

describeEachDialect("workload identities in the dashboard", (dialect) => {
  let bed: DashboardBed;
  beforeAll(async () => {
    bed = await startDashboardBed(dialect);
  });
  afterAll(async () => bed?.close());

  it("shows an identity created through the API on the project's identities screen", async () => {
    const key = await newKey("ES256");
    const created = await bed.h.inject({
      method: "POST",
      url: "/v1/identities",
      payload: {
        name: "k8s-billing",
        organization_id: (await bed.h.inject({ method: "GET", url: "/qovery/organization" })).json().results[0].id,
        service_id: bed.seeded.serviceId,
        issuer: "https://kubernetes.default.svc.cluster.local",
        audiences: ["latch"],
        subject: "system:serviceaccount:prod:billing",
        claims: { "kubernetes.io.namespace": "prod" },
        public_key_pem: key.pem,
        token_ttl: 1800,
      },
    });
    expect(created.statusCode, created.body).toBe(201);

    const page = await signedInPage(bed.browser, bed.base, bed.h.adminToken);
    const w = watch(page, bed.base);
    await page.getByRole("link", { name: "Workload identities" }).first().click();
    await page.getByRole("heading", { level: 1, name: "Workload identities" }).waitFor();
    await expect.poll(() => new URL(page.url()).pathname).toBe(`/ui/projects/${bed.seeded.projectId}/identities`);
    const row = page.locator('tr[data-identity="k8s-billing"]');
    await row.waitFor();
    const text = (await row.textContent()) ?? "";
    expect(text).toContain("system:serviceaccount:prod:billing");
    expect(text).toContain("kubernetes.io.namespace = prod");
    expect(text).toContain("inline PEM key");
    expect(text).toContain("30 min");
    expect(text).toContain("Enabled");
    await checkScreen(w, {
      canaries: [CANARY, ACCESS_TOKEN_MARK],
      ready: (p) => p.locator('tr[data-identity="k8s-billing"]').waitFor(),
    });
  });
});
