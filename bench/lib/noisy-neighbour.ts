// The soak's noisy-neighbour phase (issue 16): organization A keeps adding oauth2 secrets whose
// token endpoints never answer; organization B creates a `token` and an oauth2 secret every half
// second and measures how long each stays pending (create answered → status succeeded).
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:http";
import { call, oauth2SecretBody, secretValue, sleep } from "../../test/reliability/support.js";

/** Organization A's token endpoints that never answer. */
export const HANGING_ENDPOINTS = 40;
/** B's deadlines per secret (issue 16: a `token` secret within 2 s, an oauth2 one within 5 s). */
const NOISY_DEADLINE_MS = { token: 2000, oauth2: 5000 };

/** A token endpoint on 127.0.0.1 that reads the request and never answers. */
async function startHangingEndpoint(): Promise<{ url: string; close(): void }> {
  const server = createServer((request) => {
    request.resume();
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no hanging endpoint address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

export interface NoisyResult {
  seconds: number;
  hangingCreated: number;
  hangingRefused: number;
  hangingOpenAtEnd: number;
  token: { count: number; succeeded: number; p50: number; p99: number; max: number };
  oauth2: { count: number; succeeded: number; p50: number; p99: number; max: number };
  passed: boolean;
}

/**
 * Organization A (a new one) keeps adding oauth2 secrets on endpoints that never answer;
 * organization B (the soak's own) creates a token and an oauth2 secret every half second and
 * measures how long each stays pending.
 */
export async function noisyNeighbour(
  seconds: number,
  base: string,
  admin: string,
  b: { propertyId: string; reactorEnvironmentId: string },
  healthyUrl: string,
) {
  const hanging = await Promise.all(Array.from({ length: HANGING_ENDPOINTS }, () => startHangingEndpoint()));
  const name = `noisy-${randomBytes(3).toString("hex")}`;
  const organization = await call(base, admin, "POST", "/qovery/organization", { name, plan: "FREE" });
  if (organization.status !== 201) throw new Error(`organization: ${organization.status}`);
  const companies = await call(base, admin, "GET", "/reactor/companies");
  const company = (companies.body.data as Array<{ id: string; attributes: { name: string } }>).find((c) => c.attributes.name === name);
  if (company === undefined) throw new Error("no company for the noisy organization");
  const property = await call(base, admin, "POST", `/reactor/companies/${company.id}/properties`, {
    data: { type: "properties", attributes: { name: `${name} property`, platform: "edge" } },
  });
  const propertyA = property.body.data.id as string;
  const until = Date.now() + seconds * 1000;
  let hangingCreated = 0;
  let hangingRefused = 0;

  // A: a new hanging secret every 100 ms, round the 40 endpoints (its creation budget answers 429 past it).
  const noisy = (async () => {
    let n = 0;
    while (Date.now() < until) {
      const endpoint = hanging[n % hanging.length] as { url: string };
      const body = {
        data: {
          type: "secrets",
          attributes: {
            name: `hanging-${n}`,
            type_of: "oauth2",
            credentials: { client_id: `hanging-${n}`, client_secret: secretValue("hanging"), token_url: `${endpoint.url}/token` },
          },
        },
      };
      n += 1;
      const answer = await call(base, admin, "POST", `/reactor/properties/${propertyA}/secrets`, body);
      if (answer.status === 201) hangingCreated += 1;
      else if (answer.status === 429) hangingRefused += 1;
      else throw new Error(`noisy create: ${answer.status} ${JSON.stringify(answer.body)}`);
      await sleep(100);
    }
  })();

  const latencies = { token: [] as number[], oauth2: [] as number[] };
  const succeeded = { token: 0, oauth2: 0 };
  const measure = async (type: "token" | "oauth2", n: number) => {
    const body =
      type === "token"
        ? {
            data: {
              type: "secrets",
              attributes: { name: `neighbour-token-${n}`, type_of: "token", credentials: { token: secretValue("neighbour") } },
              relationships: { environment: { data: { id: b.reactorEnvironmentId, type: "environments" } } },
            },
          }
        : oauth2SecretBody(`neighbour-oauth2-${n}`, `neighbour-${n}`, `${healthyUrl}/token`, b.reactorEnvironmentId);
    const created = await call(base, admin, "POST", `/reactor/properties/${b.propertyId}/secrets`, body);
    if (created.status !== 201) throw new Error(`neighbour create: ${created.status} ${JSON.stringify(created.body)}`);
    const id = created.body.data.id as string;
    const started = performance.now();
    for (;;) {
      const shown = await call(base, admin, "GET", `/reactor/secrets/${id}`);
      const status = shown.body?.data?.attributes?.status;
      const elapsed = performance.now() - started;
      if (status === "succeeded") {
        succeeded[type] += 1;
        latencies[type].push(elapsed);
        break;
      }
      if (status === "failed" || elapsed > 30_000) {
        latencies[type].push(elapsed);
        break;
      }
      await sleep(50);
    }
    await call(base, admin, "DELETE", `/reactor/secrets/${id}`);
  };
  const neighbour = (async () => {
    let n = 0;
    const pending: Array<Promise<void>> = [];
    while (Date.now() < until) {
      pending.push(measure("token", n), measure("oauth2", n));
      n += 1;
      await sleep(500);
    }
    await Promise.all(pending);
  })();
  await Promise.all([noisy, neighbour]);
  const listed = await call(base, admin, "GET", `/reactor/properties/${propertyA}/secrets?page[size]=100&filter[status]=EQ+pending`);
  const hangingOpenAtEnd = Number(listed.body?.meta?.pagination?.total_count ?? (listed.body?.data ?? []).length);
  for (const endpoint of hanging) endpoint.close();
  const stats = (type: "token" | "oauth2") => ({
    count: latencies[type].length,
    succeeded: succeeded[type],
    p50: Math.round(percentile(latencies[type], 50)),
    p99: Math.round(percentile(latencies[type], 99)),
    max: Math.round(Math.max(...latencies[type])),
  });
  const token = stats("token");
  const oauth2 = stats("oauth2");
  const result: NoisyResult = {
    seconds,
    hangingCreated,
    hangingRefused,
    hangingOpenAtEnd,
    token,
    oauth2,
    passed:
      token.succeeded === token.count &&
      oauth2.succeeded === oauth2.count &&
      token.max <= NOISY_DEADLINE_MS.token &&
      oauth2.max <= NOISY_DEADLINE_MS.oauth2,
  };
  return result;
}

export function noisyRows(noisy: NoisyResult | null): string[] {
  if (noisy === null) return [];
  const row = (label: string, one: NoisyResult["token"]) =>
    `| noisy neighbour: B's ${label} secrets | ${one.succeeded} of ${one.count} succeeded; create → succeeded p50 ${one.p50} ms, p99 ${one.p99} ms, max ${one.max} ms |`;
  return [
    `| noisy neighbour: A (${noisy.seconds} s) | ${noisy.hangingCreated} oauth2 secrets created on ${HANGING_ENDPOINTS} endpoints that never answer (${noisy.hangingRefused} creations answered 429), ${noisy.hangingOpenAtEnd} still pending at the end |`,
    row("`token`", noisy.token),
    row("oauth2 (healthy endpoint)", noisy.oauth2),
  ];
}
