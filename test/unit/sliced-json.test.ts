// An answer whose last property is a long array is serialized a slice of items at a time
// (src/api/http/sliced-json.ts): the environment at a moment and a restore's `changed` list. What a
// client receives must be exactly what the route's own serializer makes of the whole answer: the
// properties before the array as they are, fields outside the schema dropped, multi-byte
// characters intact; and a schema that puts a property after the array is answered whole.
import { Type } from "@sinclair/typebox";
import Fastify from "fastify";
import { afterAll, beforeAll, expect, it } from "vitest";
import { sendSliced } from "../../src/api/http/sliced-json.js";

const Item = Type.Object({ id: Type.String(), rank: Type.Integer(), note: Type.Union([Type.String(), Type.Null()]) });
const AtMoment = Type.Object({ at: Type.String(), results: Type.Array(Item) });
const ArrayFirst = Type.Object({ results: Type.Array(Item), total: Type.Integer() });

const items = Array.from({ length: 1_234 }, (_, i) => ({
  id: `item-${i}`,
  rank: i,
  note: i % 4 === 0 ? null : `note ${i} "quoted" \\ é ✓ 𝄞`,
  hidden: `not in the schema ${i}`,
}));
const at = "2026-12-05T10:00:00.000Z ✓";

const app = Fastify();
app.get("/whole", { schema: { response: { 200: AtMoment } } }, async () => ({ at, results: items }));
app.get("/sliced", { schema: { response: { 200: AtMoment } } }, async (_request, reply) => sendSliced(reply, { at }, "results", items));
app.get("/array-first/whole", { schema: { response: { 200: ArrayFirst } } }, async () => ({ total: items.length, results: items }));
app.get("/array-first/sliced", { schema: { response: { 200: ArrayFirst } } }, async (_request, reply) =>
  sendSliced(reply, { total: items.length }, "results", items),
);

beforeAll(async () => app.ready());
afterAll(async () => app.close());

it("answers, slice by slice, the bytes the route's serializer makes of the whole answer, its head included", async () => {
  const whole = await app.inject({ method: "GET", url: "/whole" });
  const sliced = await app.inject({ method: "GET", url: "/sliced" });
  expect(sliced.statusCode).toBe(200);
  expect(sliced.headers["content-type"]).toBe(whole.headers["content-type"]);
  expect(sliced.rawPayload.equals(whole.rawPayload)).toBe(true);
  const parsed = sliced.json() as { at: string; results: Array<Record<string, unknown>> };
  expect(parsed.at).toBe(at);
  expect(parsed.results.map((item) => item.rank)).toEqual(items.map((item) => item.rank));
  expect(parsed.results[1]).toEqual({ id: "item-1", rank: 1, note: 'note 1 "quoted" \\ é ✓ 𝄞' });
  expect(sliced.body).not.toContain("not in the schema");
});

it("answers whole, and the same, when the schema writes a property after the array", async () => {
  const whole = await app.inject({ method: "GET", url: "/array-first/whole" });
  const sliced = await app.inject({ method: "GET", url: "/array-first/sliced" });
  expect(sliced.statusCode).toBe(200);
  expect(sliced.rawPayload.equals(whole.rawPayload)).toBe(true);
  expect(sliced.json()).toMatchObject({ total: items.length });
  expect((sliced.json() as { results: unknown[] }).results).toHaveLength(items.length);
});
