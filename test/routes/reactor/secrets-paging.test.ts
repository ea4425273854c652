// The property's secrets list pages in the database when no filter or sort is asked (bench R3).
// Its pages must be exactly the pages of the in-memory path (forced here by a sort on
// created_at, which is the default order), for every page and at both ends.
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeEachDialect } from "../../helpers/harness.js";
import { createEdgeTree, type ReactorSuite, secretBody, startReactor } from "./fixtures.js";

describeEachDialect("reactor secrets paging in the database", (dialect) => {
  let s: ReactorSuite;
  let propertyId: string;
  beforeAll(async () => {
    s = await startReactor(dialect);
    propertyId = (await createEdgeTree(s.client, s.companyId)).property.id;
    for (let i = 0; i < 13; i++) {
      await s.client.post(
        `/properties/${propertyId}/secrets`,
        secretBody({ name: `paged ${i}`, type_of: "token", credentials: { token: "t" } }),
      );
    }
  });
  afterAll(async () => s.h.close());

  it("gives the same pages and pagination as the in-memory path", async () => {
    for (const page of [1, 2, 3, 4]) {
      const query = { "page[size]": 4, "page[number]": page };
      const database = await s.client.get(`/properties/${propertyId}/secrets`, query);
      const memory = await s.client.get(`/properties/${propertyId}/secrets`, { ...query, sort: "created_at" });
      expect(database.data.map((item: { id: string }) => item.id)).toEqual(memory.data.map((item: { id: string }) => item.id));
      expect(database.data).toEqual(memory.data);
      expect(database.meta.pagination).toEqual(memory.meta.pagination);
    }
    const last = await s.client.get(`/properties/${propertyId}/secrets`, { "page[size]": 4, "page[number]": 4 });
    expect(last.data).toHaveLength(1);
    expect(last.meta.pagination).toEqual({ current_page: 4, next_page: null, prev_page: 3, total_pages: 4, total_count: 13 });
  });
});
