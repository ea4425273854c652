// The checks every dashboard screen passes (issue #9): no canary in the page, in any response
// the page received, in web storage or document.cookie; no request to another origin; no page
// or console error; axe finds nothing serious or critical; one h1 and one main; the primary
// action reachable with Tab; a reload restores the same view.
import { AxeBuilder } from "@axe-core/playwright";
import type { Page, Response } from "playwright-core";
import { expect } from "vitest";

export interface Watch {
  page: Page;
  origin: string;
  /** Every request URL the page made. */
  requests: string[];
  errors: string[];
  bodies: Promise<string>[];
}

/** Records what a page does from now on. */
export function watch(page: Page, origin: string): Watch {
  const state: Watch = { page, origin, requests: [], errors: [], bodies: [] };
  page.on("request", (request) => state.requests.push(request.url()));
  page.on("pageerror", (error) => state.errors.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") state.errors.push(`console: ${message.text()}`);
  });
  page.on("response", (response: Response) => {
    state.bodies.push(response.status() >= 300 && response.status() < 400 ? Promise.resolve("") : response.text().catch(() => ""));
  });
  return state;
}

function assertNoLeak(text: string, canaries: string[], where: string): void {
  for (const canary of canaries) expect(text.includes(canary), `${where} contains a canary`).toBe(false);
}

export interface ScreenCheck {
  /** Waits until the screen shows its data. */
  ready(page: Page): Promise<void>;
  canaries: string[];
}

/** Runs the every-screen checks on the page as it is now, then reloads and checks it again. */
export async function checkScreen(w: Watch, check: ScreenCheck): Promise<void> {
  const { page } = w;
  await check.ready(page);
  const url = page.url();

  expect(await page.locator("h1").count()).toBe(1);
  expect(await page.locator("main").count()).toBe(1);

  assertNoLeak(await page.content(), check.canaries, "the page");
  const storage = (await page.evaluate(
    "JSON.stringify({ local: Object.entries(localStorage), session: Object.entries(sessionStorage), cookie: document.cookie })",
  )) as string;
  expect(JSON.parse(storage)).toEqual({ local: [], session: [], cookie: "" });

  const results = await new AxeBuilder({ page }).analyze();
  const serious = results.violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical");
  expect(
    serious.map((violation) => `${violation.id}: ${violation.help} (${violation.nodes.map((node) => node.target.join(" ")).join(", ")})`),
  ).toEqual([]);

  // The primary action: Tab from the top of the page until it has the focus.
  await page.evaluate("document.activeElement && document.activeElement.blur && document.activeElement.blur(); window.scrollTo(0, 0)");
  let reached = false;
  for (let step = 0; step < 40 && !reached; step++) {
    await page.keyboard.press("Tab");
    reached = (await page.evaluate("document.activeElement !== null && document.activeElement.hasAttribute('data-primary')")) as boolean;
  }
  expect(reached, "the primary action is reachable with Tab").toBe(true);

  await page.reload();
  await check.ready(page);
  expect(page.url()).toBe(url);

  const bodies = await Promise.all(w.bodies);
  for (const body of bodies) assertNoLeak(body, check.canaries, "a response the page received");
  const foreign = w.requests.filter((request) => !request.startsWith(`${w.origin}/`) && !request.startsWith("data:"));
  expect(foreign).toEqual([]);
  expect(w.errors).toEqual([]);
}
