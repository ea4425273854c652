// What every dashboard suite starts from: the built UI, a local token endpoint, a server on a
// loopback port with a fresh database seeded through the API, and one Chromium.
import type { DialectName } from "../../src/db/connect.js";
import { createHarness, type Harness } from "../helpers/harness.js";
import { startTokenServer, type TokenServer } from "../helpers/token-server.js";
import { ensureUiBuilt, type LaunchedBrowser, launchChromium } from "./browser.js";
import { type Seeded, seed } from "./seed.js";

export interface DashboardBed {
  h: Harness;
  tokens: TokenServer;
  /** The server's origin, e.g. http://127.0.0.1:41234. */
  base: string;
  seeded: Seeded;
  browser: LaunchedBrowser;
  close(): Promise<void>;
}

export async function startDashboardBed(
  dialect: DialectName,
  options: { env?: Record<string, string>; port?: number } = {},
): Promise<DashboardBed> {
  ensureUiBuilt();
  const tokens = await startTokenServer();
  const h = await createHarness(dialect, { LATCH_OUTBOUND_ALLOW_HTTP: "1", LATCH_OUTBOUND_ALLOW_CIDRS: "127.0.0.1/32", ...options.env });
  const base = await h.app.listen({ host: "127.0.0.1", port: options.port ?? 0 });
  const seeded = await seed(h, tokens);
  const browser = await launchChromium();
  return {
    h,
    tokens,
    base,
    seeded,
    browser,
    async close() {
      await browser.close();
      await h.close();
      await tokens.close();
    },
  };
}
