// The recording token endpoint's overlap check, which the reliability suites rely on to prove
// that one credential never has two token requests open at once: it must see two requests a
// client holds open together, and not count one the client already gave up on.
import { Agent, request } from "undici";
import { afterEach, expect, it } from "vitest";
import { type Reply, startRecordingTokenServer, trackClientSockets } from "./support.js";

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function setUp(reply: (attempt: number) => Reply) {
  const clientSockets = trackClientSockets(2_000);
  const tokens = await startRecordingTokenServer((one) => reply(one.attempt), { clientSockets });
  const agent = new Agent({ connect: clientSockets.connector });
  closers.push(
    () => agent.destroy(),
    () => tokens.close(),
  );
  const post = (clientId: string, signal?: AbortSignal) =>
    request(`${tokens.url}/token`, {
      dispatcher: agent,
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `grant_type=client_credentials&client_id=${clientId}`,
      ...(signal === undefined ? {} : { signal }),
    });
  return { tokens, post };
}

it("counts a second request of a client_id while the first is held open, and names both", async () => {
  const { tokens, post } = await setUp((attempt) => (attempt === 1 ? { kind: "hang" } : { kind: "ok" }));
  const held = new AbortController();
  const first = post("twice", held.signal).catch(() => null);
  while (tokens.requests.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  const second = await post("twice");
  await second.body.text();
  held.abort();
  await first;
  expect(tokens.overlaps).toHaveLength(1);
  expect(tokens.overlaps[0]).toMatch(/^twice: attempt 2 arrived while attempt 1 \(hang, \d+ ms earlier, client connection still open\)/);
});

it("counts neither requests answered in turn nor one sent after the client gave up on the one before", async () => {
  const { tokens, post } = await setUp((attempt) => (attempt === 3 ? { kind: "hang" } : { kind: "ok" }));
  for (const clientId of ["a", "b", "a", "b"]) await (await post(clientId)).body.text();
  const gaveUp = new AbortController();
  const abandoned = post("a", gaveUp.signal).catch(() => null);
  while (tokens.requestsFor("a") < 3) await new Promise((resolve) => setTimeout(resolve, 5));
  gaveUp.abort();
  await abandoned;
  await (await post("a")).body.text();
  expect(tokens.requestsFor("a")).toBe(4);
  expect(tokens.overlaps).toEqual([]);
});
