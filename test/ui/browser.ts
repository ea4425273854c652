// Real Chromium for the dashboard tests: Debian's /usr/bin/chromium driven by playwright-core
// (no browser download), a fresh profile per launch, and nothing that phones home.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CHROMIUM = "/usr/bin/chromium";

/** Builds ui/dist when it is missing or older than ui/src (the same guard as `prepare`). */
export function ensureUiBuilt(): void {
  const result = spawnSync(process.execPath, [join(ROOT, "scripts", "build-ui.mjs")], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`building the dashboard failed:\n${result.stdout}\n${result.stderr}`);
  if (!existsSync(join(ROOT, "ui", "dist", "index.html"))) throw new Error("ui/dist/index.html is missing after the build");
}

export interface LaunchedBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run does it)`);
  const profile = mkdtempSync(join(tmpdir(), "latch-chromium-"));
  // A persistent context is how playwright takes --user-data-dir: a fresh directory per launch.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * The browser's first page, signed in to the dashboard at `base` with `token` (through the sign-in
 * screen, as a person does). A step that cannot happen fails with its locator named, well inside
 * the test timeout.
 */
export async function signedInPage(browser: LaunchedBrowser, base: string, token: string): Promise<Page> {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(10_000);
  await page.goto(`${base}/ui/signin`);
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Projects" }).waitFor();
  return page;
}
