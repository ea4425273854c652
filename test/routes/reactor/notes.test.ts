// Notes on secrets: create (at most 512 characters, author from the token), list, lookup;
// no edit and no delete of their own.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { errorsOf } from "../../helpers/reactor-client.js";
import { createEdgeTree, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

describeEachDialect("reactor notes", (dialect) => {
  let s: ReactorSuite;
  let propertyId: string;
  beforeAll(async () => {
    s = await startReactor(dialect);
    propertyId = (await createEdgeTree(s.client, s.companyId)).property.id;
  });
  afterAll(async () => s.h.close());

  const create = async (attributes: Record<string, unknown>) =>
    (await s.client.post(`/properties/${propertyId}/secrets`, secretBody({ name: "noted", ...attributes }))).data;
  async function failure(promise: Promise<unknown>) {
    const error = await s.client.failure(promise);
    return { status: error.status, errors: errorsOf(error) };
  }

  it("adds notes of at most 512 characters, lists them and looks them up; they cannot be edited or deleted", async () => {
    const secret = await create({ type_of: "token", credentials: { token: "t" } });
    const post = (text: unknown) => s.client.post(`/secrets/${secret.id}/notes`, { data: { type: "notes", attributes: { text } } });
    const longest = (await post("🔑".repeat(512))).data;
    expect([...longest.attributes.text]).toHaveLength(512);
    for (const text of ["x".repeat(513), "", "   ", 42]) {
      expect(await failure(post(text))).toMatchObject({ status: 422, errors: [{ source: { pointer: "/data/attributes/text" } }] });
    }
    const second = (await post("second")).data;
    expect(second.attributes).toMatchObject({ text: "second", author_display_name: "instance-admin", author_email: null });
    expect(second.links).toEqual({ self: `${s.baseUrl}/notes/${second.id}`, resource: `${s.baseUrl}/secrets/${secret.id}` });
    const list = await s.client.get(`/secrets/${secret.id}/notes`);
    expect(list.data.map((note: { id: string }) => note.id)).toEqual([longest.id, second.id]);
    expect((await s.client.get(`/secrets/${secret.id}/notes`, { "filter[text]": "CONTAINS sec" })).data).toHaveLength(1);
    expect((await s.client.get(`/notes/${second.id}`)).data).toEqual(second);
    // No PATCH and no DELETE on a note: the path exists, the methods do not (405).
    expect(
      (await failure(s.client.patch(`/notes/${second.id}`, { data: { id: second.id, type: "notes", attributes: { text: "y" } } }))).status,
    ).toBe(405);
    expect((await failure(s.client.delete(`/notes/${second.id}`))).status).toBe(405);
    expect(
      (await failure(s.client.post(`/secrets/SE${"0".repeat(32)}/notes`, { data: { type: "notes", attributes: { text: "x" } } }))).status,
    ).toBe(404);
  });
});
