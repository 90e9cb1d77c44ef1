// Client mistakes: every one is a 4xx JSON:API error document, never a 500, and nothing is written.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { api, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
let productId: string;

beforeAll(async () => {
  s = await startServer({ schemas: ["schema_product.yaml"] });
  await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: "C" } } });
  productId = (await api(s, "POST", "/api/product", { data: { type: "product", attributes: { name: "P", sku: "SKU-1", price: 2 } } })).body.data.id;
});
afterAll(async () => {
  await s.stop();
});

const snapshot = async () => {
  const products = await api(s, "GET", "/api/product?page[size]=1000&sort=name");
  const cats = await api(s, "GET", "/api/category?page[size]=1000");
  return JSON.stringify([products.body.data, cats.body.data]);
};

type Case = [name: string, method: string, path: () => string, body: unknown, status: number];
const p = { data: { type: "product", attributes: { name: "X" } } };
const cases: Case[] = [
  ["body is not JSON", "POST", () => "/api/product", "{not json", 400],
  ["empty body", "POST", () => "/api/product", "", 400],
  ["body is an array", "POST", () => "/api/product", "[]", 400],
  ["no data member", "POST", () => "/api/product", { attributes: {} }, 400],
  ["data is null", "POST", () => "/api/product", { data: null }, 400],
  ["data is a list", "POST", () => "/api/product", { data: [p.data] }, 400],
  ["no type", "POST", () => "/api/product", { data: { attributes: { name: "X" } } }, 400],
  ["type of another table", "POST", () => "/api/product", { data: { type: "category", attributes: { name: "X" } } }, 409],
  ["attributes is a string", "POST", () => "/api/product", { data: { type: "product", attributes: "name=X" } }, 400],
  ["missing required attribute", "POST", () => "/api/product", { data: { type: "product", attributes: { price: 1 } } }, 422],
  ["required attribute null", "POST", () => "/api/product", { data: { type: "product", attributes: { name: null } } }, 422],
  ["number column given text", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X", price: "cheap" } } }, 422],
  ["enum value not an option", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X", status: "URGENT" } } }, 422],
  ["bad date", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X", released_at: "yesterday-ish" } } }, 422],
  ["boolean given text", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X", published: "maybe" } } }, 422],
  ["json column given broken JSON text", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X", details: "{oops" } } }, 422],
  ["duplicate unique value", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X", sku: "SKU-1" } } }, 409],
  ["FK to a missing row", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X", category_id: "01922e1a-d5ea-71c9-bd3e-616d23780f93" } } }, 422],
  ["FK not a UUID", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X", category_id: "tools" } } }, 422],
  ["client id not a UUID", "POST", () => "/api/product", { data: { type: "product", id: "my-id", attributes: { name: "X" } } }, 400],
  ["unknown relationship", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X" }, relationships: { nope: { data: null } } } }, 400],
  ["relationship without data", "POST", () => "/api/product", { data: { type: "product", attributes: { name: "X" }, relationships: { category_id: {} } } }, 400],
  ["unknown table", "POST", () => "/api/nope", p, 404],
  ["GET unknown table", "GET", () => "/api/nope", undefined, 404],
  ["GET id that is not a UUID", "GET", () => "/api/product/42", undefined, 400],
  ["GET unknown id", "GET", () => "/api/product/01922e1a-d5ea-71c9-bd3e-616d23780f93", undefined, 404],
  ["PATCH unknown id", "PATCH", () => "/api/product/01922e1a-d5ea-71c9-bd3e-616d23780f93", p, 404],
  ["PATCH with a different id", "PATCH", () => `/api/product/${productId}`, { data: { type: "product", id: "01922e1a-d5ea-71c9-bd3e-616d23780f93", attributes: { name: "Y" } } }, 409],
  ["PATCH invalid JSON", "PATCH", () => `/api/product/${productId}`, "{", 400],
  ["PATCH wrong type of value", "PATCH", () => `/api/product/${productId}`, { data: { type: "product", attributes: { price: [1] } } }, 422],
  ["PATCH stale version", "PATCH", () => `/api/product/${productId}`, { data: { type: "product", attributes: { name: "Y", version: 99 } } }, 409],
  ["PATCH permission out of range", "PATCH", () => `/api/product/${productId}`, { data: { type: "product", attributes: { permission: -5 } } }, 422],
  ["DELETE id that is not a UUID", "DELETE", () => "/api/product/abc", undefined, 400],
  ["PUT on an item", "PUT", () => `/api/product/${productId}`, p, 405],
  ["DELETE on a collection", "DELETE", () => "/api/product", undefined, 405],
  ["unknown path", "GET", () => "/nothing/here", undefined, 404],
  ["too deep a path", "GET", () => `/api/product/${productId}/a/b/c`, undefined, 404],
  ["list with bad page size", "GET", () => "/api/product?page[size]=99999", undefined, 400],
  ["list with unknown sort column", "GET", () => "/api/product?sort=bogus", undefined, 400],
  ["list with bad query JSON", "GET", () => "/api/product?query=[{", undefined, 400],
  ["list with unknown fields", "GET", () => "/api/product?fields=bogus", undefined, 400],
];

test(`${cases.length} kinds of malformed request get a 4xx JSON:API error and write nothing`, async () => {
  expect(cases.length).toBeGreaterThanOrEqual(30);
  const before = await snapshot();
  for (const [name, method, path, body, status] of cases) {
    const r = await api(s, method, path(), body);
    expect(`${name}: ${r.status}`).toBe(`${name}: ${status}`);
    expect(r.headers.get("content-type")).toBe("application/vnd.api+json");
    expect(Array.isArray(r.body?.errors)).toBe(true);
    expect(r.body.errors[0].status).toBe(String(status));
    expect(typeof r.body.errors[0].title).toBe("string");
    expect(r.text).not.toContain("    at "); // no stack traces
  }
  expect(await snapshot()).toBe(before);
});

test("validation errors point at the attribute", async () => {
  const r = await api(s, "POST", "/api/product", { data: { type: "product", attributes: { name: "X", status: "URGENT" } } });
  expect(r.body.errors[0].source.pointer).toBe("/data/attributes/status");
  expect(r.body.errors[0].detail).toContain("draft, live");
  const m = await api(s, "POST", "/api/product", { data: { type: "product", attributes: { price: 1 } } });
  expect(m.body.errors[0].detail).toContain("name");
});
