// Shared set-up for the Reactor route suites: a harness listening on 127.0.0.1, a conformance
// client, and helpers that build the §4.6 tree (property → host → environment) through it.
import { randomBytes } from "node:crypto";
import type { DialectName } from "../../../src/db/connect.js";
import { createHarness, type Harness } from "../../helpers/harness.js";
import { listenReactor, ReactorClient } from "../../helpers/reactor-client.js";

export interface ReactorSuite {
  h: Harness;
  client: ReactorClient;
  baseUrl: string;
  companyId: string;
}

export async function startReactor(dialect: DialectName, env: Record<string, string> = {}): Promise<ReactorSuite> {
  const h = await createHarness(dialect, env);
  const baseUrl = await listenReactor(h.app);
  const client = new ReactorClient(baseUrl, { token: h.adminToken });
  const companies = await client.get("/companies");
  return { h, client, baseUrl, companyId: companies.data[0].id };
}

/** A random marker that must never appear in any response, log line or the database file in clear. */
export function canary(label: string): string {
  return `CANARY-${label}-${randomBytes(12).toString("hex")}`;
}

export async function createProperty(client: ReactorClient, companyId: string, attributes: Record<string, unknown> = {}) {
  const body = {
    data: { type: "properties", attributes: { name: `EF ${randomBytes(4).toString("hex")}`, platform: "edge", ...attributes } },
  };
  return (await client.post(`/companies/${companyId}/properties`, body)).data;
}

export async function createHost(client: ReactorClient, propertyId: string) {
  const body = { data: { type: "hosts", attributes: { name: "Managed by Adobe", type_of: "akamai" } } };
  return (await client.post(`/properties/${propertyId}/hosts`, body)).data;
}

export async function createEnvironment(client: ReactorClient, propertyId: string, hostId: string, stage = "development", name?: string) {
  const body = {
    data: {
      type: "environments",
      attributes: { name: name ?? `${stage} ${randomBytes(4).toString("hex")}`, stage },
      relationships: { host: { data: { id: hostId, type: "hosts" } } },
    },
  };
  return (await client.post(`/properties/${propertyId}/environments`, body)).data;
}

/** An edge property with an akamai host and one development environment. */
export async function createEdgeTree(client: ReactorClient, companyId: string) {
  const property = await createProperty(client, companyId);
  const host = await createHost(client, property.id);
  const environment = await createEnvironment(client, property.id, host.id);
  return { property, host, environment };
}

export function secretBody(attributes: Record<string, unknown>, environmentId?: string | null) {
  return {
    data: {
      type: "secrets",
      attributes,
      ...(environmentId === undefined
        ? {}
        : { relationships: { environment: { data: environmentId === null ? null : { id: environmentId, type: "environments" } } } }),
    },
  };
}

/**
 * Runs the exchange worker until no job is due (each tick takes a few). Tests only ever store
 * token URLs on loopback, so whatever runs here sends nothing beyond the machine.
 */
export async function drainExchanges(h: Harness): Promise<void> {
  for (let tick = 0; tick < 100; tick++) {
    if ((await h.context.exchange.runDue()).ran === 0) return;
  }
  throw new Error("exchange jobs kept coming");
}
