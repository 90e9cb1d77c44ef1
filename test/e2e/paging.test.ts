// Deep pages start from remembered rows (bookmarks): whatever order pages are asked in, and after writes, every page
// holds exactly the rows of the same slice of one big page.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
let category: string;

const ROWS = 47;
const SIZE = 5;

async function create(i: number): Promise<string> {
  // Repeated names and prices: ties that only the id breaks.
  const r = await api(s, "POST", "/api/product", { data: { type: "product", attributes: { name: `item ${i % 7}`, price: i % 5, category_id: category } } });
  expect(r.status).toBe(201);
  return r.body.data.id;
}

beforeAll(async () => {
  s = await startServer({ schemas: ["schema_product.yaml"] });
  category = (await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: "all" } } })).body.data.id;
  for (let i = 0; i < ROWS; i++) await create(i);
});
afterAll(async () => {
  await s.stop();
});

const ids = (r: { body: any }) => r.body.data.map((d: any) => d.id);

async function checkPages(params: string, order: number[]): Promise<void> {
  const whole = await api(s, "GET", `/api/product?${params}&page[size]=1000`);
  expect(whole.status).toBe(200);
  const all: string[] = ids(whole);
  for (const n of order) {
    const r = await api(s, "GET", `/api/product?${params}&page[size]=${SIZE}&page[number]=${n}`);
    expect(r.status).toBe(200);
    expect({ params, page: n, ids: ids(r) }).toEqual({ params, page: n, ids: all.slice((n - 1) * SIZE, n * SIZE) });
    expect(r.body.links.total).toBe(all.length);
  }
}

const last = Math.ceil(ROWS / SIZE);
const forward = Array.from({ length: last + 1 }, (_, i) => i + 1); // one page past the end, which is empty
const backward = [...forward].reverse();
const scattered = [7, 3, 9, 2, 10, 4, 4, 1, 8];
const query = `query=${encodeURIComponent(JSON.stringify([{ column: "price", operator: "gt", value: 1 }]))}`;

describe("paging through bookmarks", () => {
  for (const params of ["sort=id", "sort=-id", "sort=name", "sort=-name", "sort=price", "sort=-created_at", "sort=name,price", "group=default", `sort=id&${query}`, `sort=-name&${query}`]) {
    test(`${params}: forward, backward and scattered pages equal the slices of one big page`, async () => {
      await checkPages(params, forward);
      await checkPages(params, backward);
      await checkPages(params, scattered);
    });
  }

  test("totals and pages stay exact through inserts and updates of filtered and sorted columns", async () => {
    const views = ["sort=id", "sort=-id", "sort=name", "sort=price", `sort=id&${query}`, `sort=-name&${query}`];
    for (const v of views) await checkPages(v, scattered);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 3; i++) await create(200 + round * 3 + i); // prices 0..4: some match price > 1, some not
      const all = ids(await api(s, "GET", "/api/product?sort=id&page[size]=1000"));
      const patch = (id: string, attributes: Record<string, unknown>) => api(s, "PATCH", `/api/product/${id}`, { data: { type: "product", attributes } });
      expect((await patch(all[round]!, { price: round % 2 === 0 ? 0 : 4 })).status).toBe(200); // in or out of the filter
      expect((await patch(all[round + 5]!, { name: `renamed ${round}` })).status).toBe(200); // moves in name order
      expect((await patch(all[round + 9]!, { published: true })).status).toBe(200); // neither filtered nor sorted
      for (const v of views) await checkPages(v, [...scattered, 11]);
    }
  });

  test("after writes (new rows before and after the bookmarks, a deleted row) pages are still exact", async () => {
    await checkPages("sort=name", forward);
    await checkPages("sort=-id", forward);
    const added = [await create(100), await create(101)];
    const first = (await api(s, "GET", "/api/product?sort=name&page[size]=1")).body.data[0].id;
    expect((await api(s, "DELETE", `/api/product/${first}`)).status).toBe(200);
    await checkPages("sort=name", scattered);
    await checkPages("sort=-id", backward);
    const all = ids(await api(s, "GET", "/api/product?sort=-id&page[size]=1000"));
    expect(all.slice(0, 2)).toEqual([added[1], added[0]]);
  });
});
