// The one rule of "a credential is delivered" (credentials/deliverable.ts), read by the runtime
// bundle and the dashboard's matrix alike.
import { expect, it } from "vitest";
import { type DeliverableCredential, isDeliverable } from "../../src/modules/credentials/deliverable.js";

const NOW = new Date("2026-06-01T12:00:00.000Z");
const base: DeliverableCredential = {
  status: "succeeded",
  provider: "oauth2",
  hasArtifact: true,
  expiresAt: "2026-06-01T13:00:00.000Z",
  environmentId: "env",
};

it("delivers a succeeded credential with an unexpired artifact, attached to an environment", () => {
  expect(isDeliverable(base, NOW)).toBe(true);
  expect(isDeliverable({ ...base, expiresAt: null }, NOW)).toBe(true);
});

it("never delivers an expired artifact, a missing one, or one without an environment", () => {
  expect(isDeliverable({ ...base, expiresAt: NOW.toISOString() }, NOW)).toBe(false);
  expect(isDeliverable({ ...base, expiresAt: "2026-06-01T11:59:59.999Z" }, NOW)).toBe(false);
  expect(isDeliverable({ ...base, hasArtifact: false }, NOW)).toBe(false);
  expect(isDeliverable({ ...base, environmentId: null }, NOW)).toBe(false);
});

it("keeps an oauth2-google token delivered while a new consent is pending or failed, not other providers", () => {
  for (const status of ["pending", "failed"]) {
    expect(isDeliverable({ ...base, status, provider: "oauth2-google" }, NOW)).toBe(true);
    expect(isDeliverable({ ...base, status, provider: "oauth2" }, NOW)).toBe(false);
    expect(isDeliverable({ ...base, status, provider: "token" }, NOW)).toBe(false);
  }
  expect(isDeliverable({ ...base, status: "pending", provider: "oauth2-google", expiresAt: "2026-06-01T00:00:00.000Z" }, NOW)).toBe(false);
});
