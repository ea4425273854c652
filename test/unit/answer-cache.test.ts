// A list answer `{ "results": [...] }` is serialized a slice at a time with turns of the event loop
// between (src/api/http/answer-cache.ts `sendResults`): what a client receives must be exactly the
// bytes the route's own serializer makes of the whole answer, fields outside the schema dropped,
// multi-byte characters intact, and the same bytes again from the cache.
import { Type } from "@sinclair/typebox";
import Fastify from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAnswerCache } from "../../src/api/http/answer-cache.js";

const Item = Type.Object({ id: Type.String(), rank: Type.Integer(), note: Type.Union([Type.String(), Type.Null()]) });
const List = Type.Object({ results: Type.Array(Item) });

const items = Array.from({ length: 2_345 }, (_, i) => ({
  id: `item-${i}`,
  rank: i,
  note: i % 3 === 0 ? null : `note ${i} "quoted" \\ é ✓ 𝄞`,
  hidden: `not in the schema ${i}`,
}));

const app = Fastify();
const answers = createAnswerCache();
let loads = 0;
app.get("/whole", { schema: { response: { 200: List } } }, async () => ({ results: items.map((item) => ({ ...item })) }));
app.get("/sliced", { schema: { response: { 200: List } } }, async (_request, reply) =>
  answers.sendResults(
    reply,
    "sliced",
    "1",
    async () => {
      loads += 1;
      return items;
    },
    (item) => ({ ...item }),
  ),
);
app.get("/few", { schema: { response: { 200: List } } }, async (_request, reply) =>
  answers.sendResults(
    reply,
    "few",
    "1",
    async () => items.slice(0, 3),
    (item) => item,
  ),
);

beforeAll(async () => app.ready());
afterAll(async () => app.close());

it("answers, slice by slice, the bytes the route's serializer makes of the whole list", async () => {
  const whole = await app.inject({ method: "GET", url: "/whole" });
  const sliced = await app.inject({ method: "GET", url: "/sliced" });
  expect(sliced.statusCode).toBe(200);
  expect(sliced.headers["content-type"]).toBe(whole.headers["content-type"]);
  expect(sliced.rawPayload.equals(whole.rawPayload)).toBe(true);
  const parsed = sliced.json() as { results: Array<Record<string, unknown>> };
  expect(parsed.results).toHaveLength(items.length);
  expect(parsed.results[1]).toEqual({ id: "item-1", rank: 1, note: 'note 1 "quoted" \\ é ✓ 𝄞' });
  expect(sliced.body).not.toContain("not in the schema");
  // Kept: the next request sends the same bytes without loading the items again.
  const again = await app.inject({ method: "GET", url: "/sliced" });
  expect(again.rawPayload.equals(whole.rawPayload)).toBe(true);
  expect(loads).toBe(1);
});

it("answers a list shorter than a slice as the route's serializer does", async () => {
  const few = await app.inject({ method: "GET", url: "/few" });
  expect(few.json()).toEqual({ results: items.slice(0, 3).map(({ hidden: _hidden, ...shown }) => shown) });
});
