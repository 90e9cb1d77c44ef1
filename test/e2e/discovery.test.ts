// Discovery: the OpenAPI document per caller, the CLI's copy, the reference page, /jsmodel and /meta.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, runCli, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
const fetchText = async (path: string, headers: Record<string, string> = {}) => {
  const r = await fetch(s.url + path, { headers });
  return { status: r.status, type: r.headers.get("content-type") ?? "", text: await r.text() };
};
const withoutServers = (doc: any) => {
  const { servers: _servers, ...rest } = doc;
  return rest;
};

beforeAll(async () => {
  s = await startServer({ schemas: ["schema_product.yaml"] });
});
afterAll(async () => {
  await s.stop();
});

describe("the OpenAPI document", () => {
  test("served as YAML at /openapi.yaml and /apispec.yaml and as JSON at /openapi.json, all the same document", async () => {
    const a = await fetchText("/openapi.yaml");
    const b = await fetchText("/apispec.yaml");
    const j = await fetchText("/openapi.json");
    expect(a.status).toBe(200);
    expect(a.text).toBe(b.text);
    expect(j.type).toContain("application/json");
    const doc = JSON.parse(j.text);
    expect(Bun.YAML.parse(a.text)).toEqual(doc);
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.servers).toEqual([{ url: s.url }]);
    expect(doc.components.securitySchemes.bearerAuth).toEqual({ type: "http", scheme: "bearer", bearerFormat: "JWT" });
    // As in Daptin's document: generated clients are named after these.
    expect(doc.info.title).toBe("Daptin API endpoint");
    expect(doc.info.version).toBe("1.0.0");
    expect(doc.paths["/actions"].get.operationId).toBe("ListGuestActions");
  });

  test("readable, unique operation ids for every table operation and action", async () => {
    const doc = JSON.parse((await fetchText("/openapi.json")).text);
    const ops: Record<string, string> = {};
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(item)) {
        if (method === "parameters") continue;
        expect(ops[op.operationId]).toBeUndefined();
        ops[op.operationId] = `${method.toUpperCase()} ${path}`;
      }
    }
    expect(ops.listProduct).toBe("GET /api/product");
    expect(ops.createProduct).toBe("POST /api/product");
    expect(ops.getProduct).toBe("GET /api/product/{id}");
    expect(ops.updateProduct).toBe("PATCH /api/product/{id}");
    expect(ops.deleteProduct).toBe("DELETE /api/product/{id}");
    expect(ops.getProductCategoryId).toBe("GET /api/product/{id}/category_id");
    expect(ops.addProductUsergroupIdRelationship).toBe("POST /api/product/{id}/relationships/usergroup_id");
    expect(ops.executeUserAccountSignin).toBe("POST /action/user_account/signin");
    expect(ops.executeUserAccountSignup).toBe("POST /action/user_account/signup");
    expect(ops.executeWorldBecomeAnAdministrator).toBe("POST /action/world/become_an_administrator");
  });

  test("column types become typed, formatted, nullable and read-only properties", async () => {
    const doc = JSON.parse((await fetchText("/openapi.json")).text);
    const attrs = doc.components.schemas.ProductAttributes.properties;
    expect(attrs.price.type).toBe("number");
    expect(attrs.published.type).toBe("boolean");
    expect(attrs.released_at).toMatchObject({ type: "string", format: "date-time", nullable: true });
    expect(attrs.status).toMatchObject({ type: "string", enum: ["draft", "live"] });
    expect(attrs.category_id).toMatchObject({ type: "string", format: "uuid", nullable: true });
    expect(attrs.created_at.readOnly).toBe(true);
    expect(attrs).not.toHaveProperty("id");
    const create = doc.components.schemas.ProductCreateAttributes;
    expect(create.required).toEqual(["name"]);
    expect(create.properties).not.toHaveProperty("permission");
    const signup = doc.components.schemas.UserAccountSignupRequest.properties.attributes;
    expect(Object.keys(signup.properties).sort()).toEqual(["email", "mobile", "name", "password", "passwordConfirm"]);
    expect(signup.properties.password.format).toBe("password");
  });

  test("daptin apispec prints the administrator's document; a guest's is the same minus what guests may not run", async () => {
    for (const format of ["json", "yaml"]) {
      const r = await runCli(["apispec", "--format", format, "--db", s.db]);
      expect(r.code).toBe(0);
      const doc = format === "json" ? JSON.parse(r.stdout) : Bun.YAML.parse(r.stdout);
      const served = JSON.parse((await fetchText("/openapi.json")).text);
      // Before lock-down a guest may use everything except the administrators-only exports and the actions for
      // signed-in users only (one-time passwords).
      const notForGuests = Object.keys(doc.paths).filter((p) => !(p in served.paths));
      expect(notForGuests.sort()).toEqual([
        "/action/user_account/register_otp", "/action/user_account/verify_otp", "/action/user_otp_account/send_otp", "/action/user_otp_account/verify_mobile_number",
        "/action/world/export_csv_data", "/action/world/export_data",
      ]);
      for (const [path, item] of Object.entries(served.paths)) expect(doc.paths[path]).toEqual(item);
    }
    expect((await runCli(["apispec", "--format", "xml", "--db", s.db])).code).toBe(2);
  });

  test("the document follows schema changes without a restart", async () => {
    const before = JSON.parse((await fetchText("/openapi.json")).text);
    expect(before.paths["/api/gadget"]).toBeUndefined();
    const file = join(s.dir, "gadget.yaml");
    writeFileSync(file, "Tables:\n  - TableName: gadget\n    Columns: [{Name: name, ColumnType: label, DataType: varchar(20)}]\n");
    expect((await runCli(["schema", "apply", file, "--db", s.db])).code).toBe(0);
    const after = JSON.parse((await fetchText("/openapi.json")).text);
    expect(after.paths["/api/gadget"].get.operationId).toBe("listGadget");
    expect((await api(s, "GET", "/api/gadget")).status).toBe(200);
  });
});

describe("reference page, /jsmodel, /meta", () => {
  test("the API reference page loads with its assets from this server (no CDN)", async () => {
    for (const path of ["/apispec", "/docs"]) {
      const page = await fetchText(path);
      expect(page.status).toBe(200);
      expect(page.type).toContain("text/html");
      expect(page.text).not.toMatch(/src="https?:/);
      const scripts = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
      expect(scripts.length).toBe(2);
      for (const asset of scripts) {
        const r = await fetchText(asset);
        expect(r.status).toBe(200);
        expect(r.text.length).toBeGreaterThan(10000);
      }
    }
  });

  test("/jsmodel/{t} gives the column model and relations", async () => {
    const r = await fetchText("/jsmodel/product.js");
    expect(r.status).toBe(200);
    const m = JSON.parse(r.text);
    expect(m.ColumnModel.name).toMatchObject({ ColumnName: "name", ColumnType: "label", DataType: "varchar(200)", IsIndexed: true });
    expect(m.ColumnModel.category_id).toEqual({ jsonApi: "hasOne", columnType: "entity", type: "category", ColumnName: "category_id" });
    expect(m.ColumnModel.usergroup_id.jsonApi).toBe("hasMany");
    expect(m.ColumnModel).not.toHaveProperty("id");
    expect((await fetchText("/jsmodel/nothing")).status).toBe(404);
  });

  test("/meta?query=column_types lists the column types", async () => {
    const r = await fetchText("/meta?query=column_types");
    const types = JSON.parse(r.text);
    expect(types.label.BlueprintType).toBe("string");
    expect(types.truefalse.BlueprintType).toBe("boolean");
    expect(types.measurement.BlueprintType).toBe("number");
    expect((await fetchText("/meta")).text).toBe("");
  });

  test("/meta?query=column_types is JSON with an ETag, and 304 when the client has it", async () => {
    const r = await fetch(s.url + "/meta?query=column_types");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const etag = r.headers.get("etag")!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{64}"$/);
    expect(etag).toBe(`W/"${new Bun.CryptoHasher("sha256").update(await r.text()).digest("hex")}"`);
    const again = await fetch(s.url + "/meta?query=column_types", { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(etag);
    expect((await fetch(s.url + "/meta?query=column_types", { headers: { "If-None-Match": 'W/"other"' } })).status).toBe(200);
  });

  test("discovery routes answer GET and HEAD (OPTIONS where Daptin does); other methods are 405 with Allow", async () => {
    for (const path of ["/openapi.json", "/openapi.yaml", "/ping", "/meta", "/actions", "/docs", "/jsmodel/product"]) {
      expect(`${path} GET ${(await fetch(s.url + path)).status}`).toBe(`${path} GET 200`);
      const head = await fetch(s.url + path, { method: "HEAD" });
      expect(`${path} HEAD ${head.status}`).toBe(`${path} HEAD 200`);
      for (const method of ["PUT", "POST", "DELETE", "PATCH", "TRACE", "PROPFIND"]) {
        const r = await api(s, method, path);
        expect(`${path} ${method} ${r.status}`).toBe(`${path} ${method} 405`);
        expect(r.headers.get("allow")).toContain("GET");
        if (method !== "TRACE") expect(r.body.errors[0].status).toBe("405"); // fetch drops the body of a TRACE answer
      }
    }
    expect((await fetch(s.url + "/ping", { method: "OPTIONS" })).status).toBe(405);
    const options = await fetch(s.url + "/openapi.json", { method: "OPTIONS" });
    expect(options.status).toBe(200);
    expect(JSON.parse(await options.text()).openapi).toMatch(/^3\./);
  });

  test("/jsmodel with a badly encoded table name is a 400", async () => {
    const r = await api(s, "GET", "/jsmodel/%E0%A4%A");
    expect(r.status).toBe(400);
    expect(r.body.errors[0].title).toBe("Invalid path");
  });
});

describe("per-caller documents after lock-down", () => {
  let admin: string;
  let user: string;
  beforeAll(async () => {
    const up = (email: string, token?: string) =>
      api(s, "POST", "/action/user_account/signup", { attributes: { email, name: email, password: "correct horse", passwordConfirm: "correct horse" } }, token ? { Authorization: `Bearer ${token}` } : {});
    const signin = async (email: string) => (await api(s, "POST", "/action/user_account/signin", { attributes: { email, password: "correct horse" } })).body[0].Attributes.value;
    await up("boss@x.io");
    admin = await signin("boss@x.io");
    expect((await api(s, "POST", "/action/world/become_an_administrator", {}, { Authorization: `Bearer ${admin}` })).status).toBe(200);
    await up("user@x.io", admin);
    user = await signin("user@x.io");
  });

  const docAs = async (token?: string, query = "") => {
    const r = await fetchText(`/openapi.json${query}`, token ? { Authorization: `Bearer ${token}` } : {});
    return { status: r.status, doc: r.status === 200 ? JSON.parse(r.text) : undefined };
  };

  test("a guest sees only what a guest may use: signin, no tables, no schema", async () => {
    const { doc } = await docAs();
    // /actions (Daptin's guest action list) is there for everyone.
    expect(Object.keys(doc.paths)).toEqual(["/action/user_account/signin", "/actions"]);
    expect(JSON.stringify(doc)).not.toContain("/api/world");
    expect(doc.components.schemas.ProductAttributes).toBeUndefined();
    expect((await docAs(undefined, "?full=1")).status).toBe(403);
  });

  test("a user sees the tables but not the administrator's actions; the admin sees everything", async () => {
    const u = (await docAs(user)).doc;
    expect(u.paths["/api/product"]).toBeDefined();
    expect(u.paths["/action/world/become_an_administrator"]).toBeUndefined();
    expect(u.paths["/action/user_account/signup"]).toBeUndefined();
    const a = (await docAs(admin, "?full=1")).doc;
    expect(a.paths["/action/world/become_an_administrator"]).toBeDefined();
    expect(a.paths["/api/world"]).toBeDefined();
    const cli = JSON.parse((await runCli(["apispec", "--format", "json", "--db", s.db])).stdout);
    expect(withoutServers(cli)).toEqual(withoutServers(a));
  });
});
