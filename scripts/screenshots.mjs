// Writes docs/screenshots/ for the README: the effective-variables matrix, the credentials list
// and the expiry timeline, against a throwaway server seeded through the API like the tests.
// Not run by the tests. Usage: npx tsx scripts/screenshots.mjs (needs /usr/bin/chromium).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { createHarness } from "../test/helpers/harness.ts";
import { startTokenServer } from "../test/helpers/token-server.ts";
import { ensureUiBuilt, launchChromium } from "../test/ui/browser.ts";
import { seed } from "../test/ui/seed.ts";

const root = new URL("..", import.meta.url).pathname;
const out = join(root, "docs", "screenshots");
mkdirSync(out, { recursive: true });

ensureUiBuilt();
const tokens = await startTokenServer();
const h = await createHarness("sqlite", { LATCH_OUTBOUND_ALLOW_HTTP: "1", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32" });
const browser = await launchChromium();
try {
  const base = await h.app.listen({ host: "127.0.0.1", port: 0 });
  const seeded = await seed(h, tokens);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await page.setViewportSize({ width: 1280, height: 820 });
  await page.goto(`${base}/ui/signin`);
  await page.getByLabel("API token").fill(h.adminToken);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Projects" }).waitFor();

  const shots = [
    ["matrix.png", `/ui/services/${seeded.serviceId}/matrix`, 'tr[data-key="DB_URL"]'],
    ["credentials.png", `/ui/projects/${seeded.projectId}/credentials`, 'tr[data-credential="billing-api"]'],
    ["timeline.png", `/ui/projects/${seeded.projectId}/timeline`, 'tr[data-credential="billing-api"]'],
  ];
  for (const [file, path, ready] of shots) {
    await page.goto(`${base}${path}`);
    await page.locator(ready).waitFor();
    await page.screenshot({ path: join(out, file), fullPage: true });
    console.log(`wrote docs/screenshots/${file}`);
  }
} finally {
  await browser.close();
  await h.close();
  await tokens.close();
}
