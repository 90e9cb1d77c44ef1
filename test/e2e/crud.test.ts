// JSON:API CRUD over HTTP against the real server, with the product/category schema from the working directory.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { api, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
let categoryId: string;

beforeAll(async () => {
  s = await startServer({ schemas: ["schema_product.yaml"] });
  const c = await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: "Tools" } } });
  expect(c.status).toBe(201);
  categoryId = c.body.data.id;
});
afterAll(async () => {
  await s.stop();
});

const product = (attributes: Record<string, unknown>, relationships?: Record<string, unknown>) => ({
  data: { type: "product", attributes, ...(relationships ? { relationships } : {}) },
});

describe("create", () => {
  test("201 with Location, the stored resource, typed attributes and server-set fields", async () => {
    const r = await api(s, "POST", "/api/product", product(
      { name: "Hammer", price: 9.5, published: true, released_at: "2025-01-15T10:30:00Z", details: { weight: 2, tags: ["a"] }, status: "LIVE" },
      { category_id: { data: { type: "category", id: categoryId } } },
    ));
    expect(r.status).toBe(201);
    expect(r.headers.get("content-type")).toBe("application/vnd.api+json");
    const d = r.body.data;
    expect(r.headers.get("location")).toBe(`/api/product/${d.id}`);
    expect(d.type).toBe("product");
    expect(d.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$/); // UUID v7
    const a = d.attributes;
    expect(a.__type).toBe("product");
    expect(a.reference_id).toBe(d.id);
    expect(a.price).toBe(9.5);
    expect(a.published).toBe(true);
    expect(a.released_at).toBe("2025-01-15T10:30:00.000Z");
    expect(a.details).toEqual({ weight: 2, tags: ["a"] });
    expect(a.status).toBe("live");
    expect(a.category_id).toBe(categoryId);
    expect(a.permission).toBe(2097151);
    expect(a.version).toBe(1);
    expect(a.user_account_id).toBeNull();
    expect(typeof a.created_at).toBe("string");
    expect(a).not.toHaveProperty("id");
    expect(Object.keys(a)).toEqual([...Object.keys(a)].sort());
    expect(d.relationships.category_id.data).toEqual({ type: "category", id: categoryId });
    expect(d.relationships.category_id.links.related).toBe(`/api/product/${d.id}/category_id`);
    // A to-many relation that was not loaded has no `data` (an empty list would claim nothing is linked).
    expect(d.relationships.usergroup_id).not.toHaveProperty("data");
    expect(d.relationships.usergroup_id.links.related).toBe(`/api/product/${d.id}/usergroup_id`);
  });

  test("defaults apply for absent attributes; client id, permission, owner and timestamps are taken from the server", async () => {
    const clientId = "01922e1a-d5ea-71c9-bd3e-616d23780f93";
    const r = await api(s, "POST", "/api/product", {
      data: { type: "product", id: clientId, attributes: { name: "Saw", permission: 1, created_at: "2000-01-01T00:00:00Z", version: 7 } },
    });
    expect(r.status).toBe(201);
    expect(r.body.data.id).toBe(clientId);
    const a = r.body.data.attributes;
    expect(a.status).toBe("draft");
    expect(a.published).toBe(false);
    expect(a.price).toBe(0);
    expect(a.permission).toBe(2097151);
    expect(a.version).toBe(1);
    expect(a.created_at.startsWith("2000")).toBe(false);
  });

  test("accepts application/json too", async () => {
    const r = await api(s, "POST", "/api/product", product({ name: "Drill" }), { "Content-Type": "application/json" });
    expect(r.status).toBe(201);
  });
});

describe("read, update, delete", () => {
  test("GET by id, PATCH partial with version bump, optimistic check, DELETE then 404", async () => {
    const c = await api(s, "POST", "/api/product", product({ name: "Wrench", price: 3 }));
    const id = c.body.data.id;
    const g = await api(s, "GET", `/api/product/${id}`);
    expect(g.status).toBe(200);
    expect(g.body.data.attributes.name).toBe("Wrench");

    await Bun.sleep(5);
    const p = await api(s, "PATCH", `/api/product/${id}`, { data: { type: "product", id, attributes: { price: 4.25 } } });
    expect(p.status).toBe(200);
    expect(p.body.data.attributes.price).toBe(4.25);
    expect(p.body.data.attributes.name).toBe("Wrench");
    expect(p.body.data.attributes.version).toBe(2);
    expect(p.body.data.attributes.updated_at > c.body.data.attributes.updated_at).toBe(true);

    // A client that read version 1 loses against the change above.
    const stale = await api(s, "PATCH", `/api/product/${id}`, { data: { type: "product", id, attributes: { price: 1, version: 1 } } });
    expect(stale.status).toBe(409);
    const fresh = await api(s, "PATCH", `/api/product/${id}`, { data: { type: "product", attributes: { price: 5, version: 2 } } });
    expect(fresh.status).toBe(200);
    expect(fresh.body.data.attributes.version).toBe(3);

    // Nothing changed: no version bump.
    const same = await api(s, "PATCH", `/api/product/${id}`, { data: { type: "product", attributes: { price: 5 } } });
    expect(same.body.data.attributes.version).toBe(3);

    const d = await api(s, "DELETE", `/api/product/${id}`);
    expect(d.status).toBe(200);
    expect(d.body).toEqual({ meta: {} }); // JSON:API: meta is an object (Daptin sends null)
    expect((await api(s, "GET", `/api/product/${id}`)).status).toBe(404);
    expect((await api(s, "DELETE", `/api/product/${id}`)).status).toBe(404);
  });

  test("PATCH can clear a nullable relation and re-point it", async () => {
    const c = await api(s, "POST", "/api/product", product({ name: "Level", category_id: categoryId }));
    const id = c.body.data.id;
    expect(c.body.data.attributes.category_id).toBe(categoryId);
    const cleared = await api(s, "PATCH", `/api/product/${id}`, { data: { type: "product", attributes: { category_id: null } } });
    expect(cleared.body.data.attributes.category_id).toBeNull();
    expect(cleared.body.data.relationships.category_id.data).toBeNull();
  });

  test("deleting a has_one target clears the link (the column is nullable)", async () => {
    const cat = await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: "Temp" } } });
    const p = await api(s, "POST", "/api/product", product({ name: "Clamp", category_id: cat.body.data.id }));
    expect((await api(s, "DELETE", `/api/category/${cat.body.data.id}`)).status).toBe(200);
    const after = await api(s, "GET", `/api/product/${p.body.data.id}`);
    expect(after.body.data.attributes.category_id).toBeNull();
  });
});

describe("system tables", () => {
  test("every table of a fresh instance answers a JSON:API list", async () => {
    const world = await api(s, "GET", "/api/world?page[size]=1000");
    expect(world.status).toBe(200);
    const names: string[] = world.body.data.map((w: any) => w.attributes.table_name);
    expect(names.length).toBeGreaterThanOrEqual(86);
    for (const t of ["user_account", "usergroup", "world", "action", "document", "site", "cloud_store", "user_account_user_account_id_has_usergroup_usergroup_id"]) {
      expect(names).toContain(t);
    }
    for (const name of names) {
      const r = await api(s, "GET", `/api/${name}?page[size]=1`);
      expect(`${name} ${r.status}`).toBe(`${name} 200`);
      expect(Array.isArray(r.body.data)).toBe(true);
    }
  });

  test("seeded groups exist and the guest user is never shown to guests", async () => {
    const groups = await api(s, "GET", "/api/usergroup");
    expect(groups.status).toBe(200);
    const users = await api(s, "GET", "/api/user_account");
    expect(users.body.data.map((u: any) => u.attributes.email)).not.toContain("guest@cms.go");
  });

  test("password columns are hashed and returned as empty strings", async () => {
    const r = await api(s, "POST", "/api/user_account", { data: { type: "user_account", attributes: { name: "P", email: "p@example.com", password: "hunter2hunter2" } } });
    expect(r.status).toBe(201);
    expect(r.body.data.attributes.password).toBe("");
    expect(r.text).not.toContain("hunter2");
    expect(r.text).not.toContain("$2");
    expect(r.body.data.attributes.user_account_id).toBe(r.body.data.id);
  });
});

describe("cached totals and statements stay exact", () => {
  test("totals follow creates, deletes and writes made by another process", async () => {
    const total = async () => (await api(s, "GET", "/api/category?page[size]=1")).body.links.total as number;
    const start = await total();
    expect(await total()).toBe(start);
    const c = await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: "Extra" } } });
    expect(await total()).toBe(start + 1);
    await api(s, "DELETE", `/api/category/${c.body.data.id}`);
    expect(await total()).toBe(start);
    // Another process writes to the same database file.
    const { Database } = await import("bun:sqlite");
    const db = new Database(s.db);
    db.run("UPDATE category SET permission = 0 WHERE name = 'Tools'");
    db.close();
    expect(await total()).toBe(start - 1);
  });

  test("a column added by `daptin schema apply` next to the running server shows up at once", async () => {
    const { runCli } = await import("../helpers/daptin.ts");
    const { writeFileSync } = await import("node:fs");
    expect((await api(s, "GET", "/api/product?page[size]=1")).body.data[0].attributes).not.toHaveProperty("notes");
    const file = join(s.dir, "notes.yaml");
    writeFileSync(file, "Tables:\n  - TableName: product\n    Columns:\n      - {Name: notes, ColumnType: content, DataType: text, IsNullable: true}\n");
    expect((await runCli(["schema", "apply", file, "--db", s.db])).code).toBe(0);
    const after = await api(s, "GET", "/api/product?page[size]=1");
    expect(after.body.data[0].attributes).toHaveProperty("notes", null);
    const one = await api(s, "GET", `/api/product/${after.body.data[0].id}`);
    expect(one.body.data.attributes).toHaveProperty("notes", null);
  });
});
