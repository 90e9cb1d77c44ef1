// The OpenAPI document as outside tools see it: it validates (swagger-parser, redocly), it generates a typed client
// (openapi-typescript + openapi-fetch) that type-checks and works against the running server, real responses match
// the documented schemas (ajv), and what a caller is shown follows the permissions (lock-down, ?full=1, the CLI).
import SwaggerParser from "@apidevtools/swagger-parser";
import Ajv, { type ValidateFunction } from "ajv";
import Ajv2020 from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseDocument, parse as parseYaml, visit } from "yaml";
import { api, FIXTURES, runCli, startServer, tempDir, type TestServer } from "../helpers/daptin.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BIN = (name: string) => join(ROOT, "node_modules/.bin", name);
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

// An OpenAPI document, read as plain JSON.
type Doc = Record<string, any>;
interface Operation {
  method: string;
  path: string;
  op: Record<string, any>;
}

let s: TestServer;
let work: string; // generated files: the lint config, the client's types and program
let yamlText: string; // GET /openapi.yaml as a guest before lock-down (every table is open then)
let doc: Doc;
let categoryId: string;
let productId: string; // linked to the category
let loneProductId: string; // no category: its to-one relation is null
let groupId: string; // the product is shared with it

async function run(cmd: string[], cwd: string, env: Record<string, string> = {}) {
  const proc = Bun.spawn(cmd, { cwd, env: { ...process.env, NO_COLOR: "1", ...env }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

async function get(path: string, token?: string) {
  const res = await fetch(s.url + path, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, type: res.headers.get("content-type") ?? "", text: await res.text() };
}

function operations(d: Doc): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(d.paths ?? {})) {
    for (const method of METHODS) if (item[method]) out.push({ method, path, op: item[method] });
  }
  return out;
}

function byOperationId(d: Doc): Map<string, Operation> {
  return new Map(operations(d).map((o) => [o.op.operationId as string, o]));
}

/** Follows a local `$ref` (e.g. a response in components/responses). */
function deref(d: Doc, node: any): any {
  while (node && typeof node.$ref === "string" && node.$ref.startsWith("#/")) {
    node = node.$ref
      .slice(2)
      .split("/")
      .map((p: string) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
      .reduce((o: any, k: string) => o?.[k], d);
  }
  return node;
}

/** The first place two JSON values differ, or null. */
function firstDifference(a: unknown, b: unknown, at = "$"): string | null {
  if (a === b) return null;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) {
    return `${at}: ${JSON.stringify(a)?.slice(0, 200)} != ${JSON.stringify(b)?.slice(0, 200)}`;
  }
  const ka = Object.keys(a), kb = Object.keys(b);
  for (const k of new Set([...ka, ...kb])) {
    if (!(k in a)) return `${at}.${k}: missing on the left`;
    if (!(k in b)) return `${at}.${k}: missing on the right`;
    const d = firstDifference((a as any)[k], (b as any)[k], `${at}.${k}`);
    if (d) return d;
  }
  return null;
}

const withoutServers = (d: Doc): Doc => {
  const { servers: _servers, ...rest } = d;
  return rest;
};

/**
 * Validates JSON values against schemas of the document. OpenAPI 3.1 schemas are JSON Schema 2020-12 (ajv/dist/2020).
 * OpenAPI 3.0 schemas go to draft-07 ajv after one conversion: `nullable: true` becomes `type: [T, "null"]`, or, where
 * the schema has no `type` (e.g. `{nullable: true, allOf: [...]}`), `anyOf: [{type: "null"}, schema]` — the lenient,
 * pre-3.0.3 reading, the one code generators apply (openapi-typescript writes `T | null`). Redocly's lint flags the
 * type-less form separately (rule nullable-type-sibling).
 */
class SchemaChecker {
  private static BASE = "urn:daptin:openapi";
  private readonly ajv: Ajv;
  private readonly v30: boolean;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(d: Doc) {
    this.v30 = String(d.openapi).startsWith("3.0");
    const opts = { strict: false, allErrors: true };
    this.ajv = this.v30 ? new Ajv(opts) : (new Ajv2020(opts) as unknown as Ajv);
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: SchemaChecker.BASE, components: this.convert(d.components ?? {}, false) });
  }

  private convert(node: any, namesHere: boolean): any {
    if (Array.isArray(node)) return node.map((n) => this.convert(n, false));
    if (node === null || typeof node !== "object") return node;
    const out: Record<string, any> = {};
    for (const [k, v] of Object.entries<any>(node)) {
      if (namesHere) out[k] = this.convert(v, false); // keys are property/schema names, not keywords
      else if (k === "$ref" && typeof v === "string") out[k] = v.startsWith("#") ? SchemaChecker.BASE + v : v;
      else if (k === "nullable" && this.v30) continue;
      else out[k] = this.convert(v, ["properties", "patternProperties", "schemas", "$defs", "definitions", "components", "responses", "parameters"].includes(k));
    }
    if (!namesHere && this.v30 && node.nullable === true) {
      if (typeof out.type === "string") {
        out.type = [out.type, "null"];
        if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
      } else return { anyOf: [{ type: "null" }, out] };
    }
    return out;
  }

  /** The problems of `value` against `schema` (a schema object of the document), as readable lines. */
  check(schema: unknown, value: unknown): string[] {
    const key = JSON.stringify(schema);
    let v = this.cache.get(key);
    if (!v) {
      v = this.ajv.compile(this.convert(schema, false));
      this.cache.set(key, v);
    }
    if (v(value)) return [];
    return (v.errors ?? []).slice(0, 8).map((e) => `${e.instancePath || "/"} ${e.message} (${e.schemaPath})`);
  }
}

/** The documented schema of `status` for an operation, for the media type the server answered with. */
function responseSchema(d: Doc, op: Record<string, any>, status: number, contentType: string): unknown {
  const responses = op.responses ?? {};
  const r = deref(d, responses[String(status)] ?? responses[`${String(status)[0]}XX`] ?? responses.default);
  if (!r) throw new Error(`${op.operationId}: no documented ${status} response`);
  const content: Record<string, any> = r.content ?? {};
  const media = content[contentType.split(";")[0]!.trim()] ?? Object.values(content)[0];
  if (!media?.schema) throw new Error(`${op.operationId}: the ${status} response documents no schema for ${contentType}`);
  return media.schema;
}

/** A schema and its `allOf` parts, references followed. */
function parts(d: Doc, schema: unknown): any[] {
  const x = deref(d, schema);
  if (x === null || typeof x !== "object") return [];
  return [x, ...((x.allOf ?? []) as unknown[]).flatMap((p) => parts(d, p))];
}

/** The schemas a schema gives member `key` of its objects (one per part that declares it). */
const member = (d: Doc, schema: unknown, key: string): unknown[] => parts(d, schema).flatMap((p) => (p.properties?.[key] ? [p.properties[key]] : []));

/**
 * The attributes of the resources in `body.data` that the document's schema for it does not declare. Attribute
 * schemas allow more keys than they name, so a validator accepts them; a typed client does not see them.
 */
function undeclaredAttributes(d: Doc, documentSchema: unknown, body: any): string[] {
  const items = member(d, documentSchema, "data").map((s) => deref(d, s)).flatMap((s) => (s.type === "array" ? [s.items] : [s]));
  const names = new Set(items.flatMap((i) => member(d, i, "attributes")).flatMap((a) => parts(d, a).flatMap((p) => Object.keys(p.properties ?? {}))));
  const resources: any[] = Array.isArray(body?.data) ? body.data : body?.data ? [body.data] : [];
  return [...new Set(resources.flatMap((r) => Object.keys(r.attributes ?? {}).filter((k) => !names.has(k))))];
}

/** Every schema object in the document, with where it is. */
function* schemas(node: unknown, at = "#"): Generator<[string, any]> {
  if (node === null || typeof node !== "object") return;
  if (!Array.isArray(node) && ("type" in node || "oneOf" in node || "allOf" in node || "enum" in node)) yield [at, node];
  for (const [k, v] of Object.entries(node)) yield* schemas(v, `${at}/${k}`);
}

/** The parameters of an operation, references followed. */
const parametersOf = (d: Doc, op: Record<string, any>): Record<string, any>[] => (op.parameters ?? []).map((p: unknown) => deref(d, p));

beforeAll(async () => {
  const dir = tempDir("daptin-openapi-");
  copyFileSync(join(FIXTURES, "schema_product.yaml"), join(dir, "schema_product.yaml"));
  s = await startServer({ dir });
  work = tempDir("daptin-openapi-client-");

  const c = await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: "Tools" } } });
  expect(c.status).toBe(201);
  categoryId = c.body.data.id;
  const p = await api(s, "POST", "/api/product", {
    data: {
      type: "product",
      attributes: { name: "Hammer", price: 9.5, published: true, released_at: "2025-01-15T10:30:00Z", details: { weight: 2 }, status: "live", sku: "H-1" },
      relationships: { category_id: { data: { type: "category", id: categoryId } } },
    },
  });
  expect(p.status).toBe(201);
  productId = p.body.data.id;
  const lone = await api(s, "POST", "/api/product", { data: { type: "product", attributes: { name: "Anvil" } } });
  expect(lone.status).toBe(201);
  loneProductId = lone.body.data.id;
  const g = await api(s, "POST", "/api/usergroup", { data: { type: "usergroup", attributes: { name: "Sellers" } } });
  expect(g.status).toBe(201);
  groupId = g.body.data.id;
  expect((await api(s, "POST", `/api/product/${productId}/relationships/usergroup_id`, { data: [{ type: "usergroup", id: groupId }] })).status).toBe(204);

  const y = await get("/openapi.yaml");
  expect(y.status).toBe(200);
  yamlText = y.text;
  doc = parseYaml(yamlText);
}, 30000);

afterAll(async () => {
  if (s) {
    await s.stop();
    rmSync(s.dir, { recursive: true, force: true }); // startServer keeps a directory it was given
  }
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("serving the document", () => {
  test("/openapi.yaml, /apispec.yaml and /openapi.json serve one OpenAPI 3 document", async () => {
    expect(String(doc.openapi)).toMatch(/^3\.[01]\.\d+$/);
    const y = await get("/openapi.yaml");
    expect(y.type).toContain("yaml");
    const alias = await get("/apispec.yaml");
    expect(alias.status).toBe(200);
    expect(alias.type).toContain("yaml");
    expect(alias.text).toBe(yamlText);
    // Plain YAML: no anchors or aliases (some generators do not resolve them).
    let aliases = 0;
    visit(parseDocument(yamlText), { Alias: () => void aliases++ });
    expect(aliases).toBe(0);
    expect(yamlText).not.toMatch(/(^|[:-]) &[A-Za-z0-9_]+/m);
    const j = await get("/openapi.json");
    expect(j.status).toBe(200);
    expect(j.type).toContain("application/json");
    expect(firstDifference(JSON.parse(j.text), doc)).toBeNull();
    // The served document names the server it was fetched from.
    expect(doc.servers).toEqual([{ url: s.url }]);
  });
});

/** What swagger-parser finds wrong with a document ("" when it validates). */
async function swaggerProblem(d: object): Promise<string> {
  try {
    await SwaggerParser.validate(structuredClone(d) as any);
    return "";
  } catch (e) {
    return String(e);
  }
}

describe("validators", () => {
  test("swagger-parser validates it", async () => {
    expect(await swaggerProblem(doc)).toBe("");
  }, 20000);

  // Ruleset: redocly's `recommended` (the stricter of its two built-in sets; `minimal` only reports structure). Its
  // errors must be none; its warnings (tag descriptions, license url) are allowed. The config sits in a folder of its
  // own: openapi-typescript, run later in `work`, would otherwise pick it up and apply it too.
  test("redocly lint (recommended ruleset) reports no errors", async () => {
    const lint = join(work, "lint");
    mkdirSync(lint);
    const file = join(lint, "openapi.yaml");
    writeFileSync(file, yamlText);
    writeFileSync(join(lint, "redocly.yaml"), "extends:\n  - recommended\n");
    const r = await run([BIN("redocly"), "lint", "--config", join(lint, "redocly.yaml"), "--format=json", "--max-problems", "100000", file], lint, {
      REDOCLY_TELEMETRY: "off",
      REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
    });
    let report: { totals: { errors: number }; problems: { ruleId: string; severity: string; message: string; location?: { pointer?: string }[] }[] };
    try {
      report = JSON.parse(r.stdout);
    } catch {
      throw new Error(`redocly lint did not print JSON (exit ${r.code}):\n${r.stdout.slice(0, 2000)}\n${r.stderr.slice(-2000)}`);
    }
    // One line per rule and message: how many, and where the first few are.
    const grouped = new Map<string, string[]>();
    for (const p of report.problems.filter((x) => x.severity === "error")) {
      const k = `${p.ruleId}: ${p.message}`;
      grouped.set(k, [...(grouped.get(k) ?? []), p.location?.[0]?.pointer ?? "?"]);
    }
    const errors = [...grouped].map(([k, at]) => `${k} (${at.length}x, e.g. ${at.slice(0, 3).join(", ")})`);
    expect(errors).toEqual([]);
    expect(report.totals.errors).toBe(0);
    // No warnings either (relationship routes once had only `default`: 1,375 operation-4xx-response warnings).
    expect(report.problems.map((x) => `${x.severity} ${x.ruleId} ${x.location?.[0]?.pointer}`).slice(0, 5)).toEqual([]);
    expect(r.code).toBe(0);
  }, 30000);
});

describe("names", () => {
  const tables: [string, string][] = [
    ["product", "Product"],
    ["category", "Category"],
    ["user_account", "UserAccount"],
    ["world", "World"],
  ];

  test("operation ids are unique", () => {
    const ids = operations(doc).map((o) => o.op.operationId);
    expect(ids.every((id) => typeof id === "string" && id.length > 0)).toBe(true);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  test("CRUD operations are list/get/create/update/delete<Table> on /api/{table} and /api/{table}/{id}", () => {
    const ops = byOperationId(doc);
    for (const [table, P] of tables) {
      const at = (id: string) => {
        const o = ops.get(id);
        return o ? `${o.method.toUpperCase()} ${o.path}` : `no operation ${id}`;
      };
      expect([at(`list${P}`), at(`create${P}`), at(`get${P}`), at(`update${P}`), at(`delete${P}`)]).toEqual([
        `GET /api/${table}`,
        `POST /api/${table}`,
        `GET /api/${table}/{id}`,
        `PATCH /api/${table}/{id}`,
        `DELETE /api/${table}/{id}`,
      ]);
    }
  });

  test("every relation the server reports has its related and relationships routes", async () => {
    for (const [table, id] of [["product", productId], ["category", categoryId]] as const) {
      const r = await api(s, "GET", `/api/${table}/${id}`);
      expect(r.status).toBe(200);
      const relations = Object.keys(r.body.data.relationships ?? {});
      expect(relations.length).toBeGreaterThan(0);
      const missing = relations.flatMap((rel) =>
        [`/api/${table}/{id}/${rel}`, `/api/${table}/{id}/relationships/${rel}`].filter((p) => !doc.paths[p]?.get),
      );
      expect(missing).toEqual([]);
    }
    expect(Object.keys(doc.paths)).toContain("/api/product/{id}/category_id");
    expect(Object.keys(doc.paths)).toContain("/api/product/{id}/relationships/category_id");
  });

  test("actions are execute<Table><Action> at POST /action/{table}/{action}", () => {
    const ops = byOperationId(doc);
    const at = (id: string) => {
      const o = ops.get(id);
      return o ? `${o.method.toUpperCase()} ${o.path}` : `no operation ${id}`;
    };
    expect(at("executeUserAccountSignup")).toBe("POST /action/user_account/signup");
    expect(at("executeUserAccountSignin")).toBe("POST /action/user_account/signin");
    expect(at("executeWorldBecomeAnAdministrator")).toBe("POST /action/world/become_an_administrator");
    for (const o of operations(doc).filter((x) => x.path.startsWith("/action/"))) {
      expect(o.method).toBe("post");
      expect(o.op.operationId).toMatch(/^execute[A-Z][A-Za-z0-9]*$/);
    }
  });

  test("a bearer JWT security scheme, used by the document's security", () => {
    const schemes: Record<string, any> = doc.components?.securitySchemes ?? {};
    const bearer = Object.entries(schemes).find(([, v]) => v.type === "http" && String(v.scheme).toLowerCase() === "bearer");
    expect(bearer).toBeDefined();
    expect(bearer![1].bearerFormat).toBe("JWT");
    const used = (doc.security ?? []).some((req: Record<string, unknown>) => bearer![0] in req);
    expect(used).toBe(true);
  });
});

describe("media types, errors and paging as documented", () => {
  test("every /api answer lists both media types; relationship operations list their 4xx answers", () => {
    const missing: string[] = [];
    for (const o of operations(doc).filter((x) => x.path.startsWith("/api/"))) {
      for (const [status, r] of Object.entries<any>(o.op.responses)) {
        const content = deref(doc, r).content;
        if (content && !(content["application/vnd.api+json"] && content["application/json"])) missing.push(`${o.op.operationId} ${status}`);
      }
      if (o.path.includes("/relationships/") || /^\/api\/[^/]+\/\{id\}\/[^/]+$/.test(o.path)) {
        for (const status of ["400", "401", "403", "404"]) if (!o.op.responses[status]) missing.push(`${o.op.operationId} has no ${status}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test("Accept: application/json gets the same body as application/json", async () => {
    const jsonApiAnswer = await fetch(`${s.url}/api/product/${productId}`);
    expect(jsonApiAnswer.headers.get("content-type")).toBe("application/vnd.api+json");
    for (const accept of ["application/json", "application/json, text/plain, */*"]) {
      const r = await fetch(`${s.url}/api/product/${productId}`, { headers: { Accept: accept } });
      expect(r.headers.get("content-type")).toBe("application/json");
      expect(await r.text()).toBe(await (await fetch(`${s.url}/api/product/${productId}`)).text());
    }
    for (const accept of ["application/vnd.api+json", "application/json, application/vnd.api+json", "*/*"]) {
      const r = await fetch(`${s.url}/api/product/${productId}`, { headers: { Accept: accept } });
      expect(`${accept}: ${r.headers.get("content-type")}`).toBe(`${accept}: application/vnd.api+json`);
    }
    const err = await fetch(`${s.url}/api/product/nope`, { headers: { Accept: "application/json" } });
    expect(err.status).toBe(400);
    expect(err.headers.get("content-type")).toBe("application/json");
  });

  test("related listings document (and use) their page size of 1000; lists 10", async () => {
    const ops = byOperationId(doc);
    const pageSize = (id: string) => parametersOf(doc, ops.get(id)!.op).find((p) => p.name === "page[size]")!.description;
    expect(pageSize("listProduct")).toContain("(default 10)");
    expect(pageSize("listProductUsergroupId")).toContain("(default 1000");
    const r = await api(s, "GET", `/api/product/${productId}/usergroup_id`);
    expect(r.body.links.per_page).toBe(1000);
    expect(r.body.meta.per_page).toBe(1000);
    expect((await api(s, "GET", "/api/product")).body.meta.per_page).toBe(10);
  });

  test("no parameter declares a default: generators would send it (page[number]=1&page[size]=10 beside page[offset] is a 400)", () => {
    const withDefault = operations(doc).flatMap((o) => parametersOf(doc, o.op).filter((p) => p.schema?.default !== undefined).map((p) => `${o.op.operationId} ${p.name}`));
    expect(withDefault.slice(0, 5)).toEqual([]);
  });
});

describe("what list operations declare", () => {
  const names = (operationId: string) => parametersOf(doc, byOperationId(doc).get(operationId)!.op).map((p) => p.name as string);

  test("relation filters of every kind, filter[column], the cursors; earlier parameters keep their places", () => {
    const product = names("listProduct");
    // The positional arguments of clients generated from earlier documents (openapi-typescript-codegen) stay put.
    expect(product.slice(0, 12)).toEqual(["page[number]", "page[size]", "page[offset]", "page[limit]", "sort", "query", "filter", "fields", "included_relations", "include", "category_id", "user_account_id"]);
    for (const n of ["page[after]", "page[before]", "usergroup_id", "filter[id]", "filter[name]", "filter[published]", "filter[status]"]) expect(product).toContain(n);
    for (const n of ["filter[reference_id]", "filter[category_id]", "password"]) expect(product).not.toContain(n);
    expect(names("listCategory")).toContain("product_id"); // the reverse side of the has_one
    // A related listing takes the parameters of a list of its rows.
    const related = names("listProductUsergroupId");
    for (const n of ["page[after]", "filter[name]", "filter[id]", "user_account_id", "product_id"]) expect(related).toContain(n);
    expect(new Set(product).size).toBe(product.length);
  });

  test("every declared list parameter is one the server understands", async () => {
    const ops = byOperationId(doc);
    const unknown: string[] = [];
    let sent = 0;
    for (const [operationId, id] of [["listProduct", ""], ["listCategory", ""], ["listProductUsergroupId", productId], ["listUsergroupProductId", groupId]] as const) {
      const o = ops.get(operationId)!;
      for (const p of parametersOf(doc, o.op).filter((x) => x.in === "query")) {
        // The value does not matter: a wrong one is another 400 (Invalid parameter), not this one.
        const r = await get(`${o.path.replace("{id}", id)}?${encodeURIComponent(p.name)}=1`);
        sent++;
        if (r.status !== 200 && JSON.parse(r.text).errors?.[0]?.title === "Unknown parameter") unknown.push(`${operationId} ${p.name}`);
      }
    }
    expect(unknown).toEqual([]);
    expect(sent).toBeGreaterThan(60);
  }, 30000);

  test("a nullable object carries nullable itself: no null branch in a oneOf (orval writes `X |  | null` for one)", () => {
    const nullBranches = [...schemas(doc.components)].filter(([, x]) => Array.isArray(x.enum) && x.enum.includes(null)).map(([at]) => at);
    expect(nullBranches.slice(0, 5)).toEqual([]);
    const data = (name: string) => deref(doc, doc.components.schemas[name].properties.data);
    expect(data("RelationshipToOne")).toMatchObject({ type: "object", nullable: true, required: ["type", "id"] });
    expect(data("ProductOneDocument")).toMatchObject({ type: "object", nullable: true });
    for (const name of ["LinkageDocument", "LinkageRequest", "RelationshipInput"]) {
      expect(data(name).oneOf.map((x: any) => deref(doc, x).type)).toEqual(["object", "array"]);
      expect(data(name).oneOf[0].nullable).toBe(true);
    }
  });

  test("PATCH on a to-many relationship keeps its operation id and says it adds, and how to replace", () => {
    const o = byOperationId(doc).get("replaceProductUsergroupIdRelationship")!;
    expect(`${o.method} ${o.path}`).toBe("patch /api/product/{id}/relationships/usergroup_id");
    expect(o.op.description).toContain("Adds the listed links");
    expect(o.op.description).toContain('"meta": {"replace": true}');
    expect(byOperationId(doc).get("replaceProductCategoryIdRelationship")!.op.description).toContain("data: null");
  });

  test("listings through a join table are documented as what they answer: the link rows for sharing", async () => {
    const o = byOperationId(doc).get("listProductUsergroupId")!;
    const schema = responseSchema(doc, o.op, 200, "application/vnd.api+json");
    expect(schema).toEqual({ $ref: "#/components/schemas/ProductUsergroupIdListDocument" });
    const r = await api(s, "GET", `/api/product/${productId}/usergroup_id`);
    expect(r.body.data.length).toBe(1);
    const link = r.body.data[0];
    expect(link.id).not.toBe(groupId);
    expect(link.attributes).toMatchObject({ relation_reference_id: groupId, join_reference_id: link.id, name: "Sellers" });
    expect(undeclaredAttributes(doc, schema, r.body)).toEqual([]);
    expect(new SchemaChecker(doc).check(schema, r.body)).toEqual([]);
    // The other side, and a many-to-many relation through a join table of its own, the same way.
    const back = byOperationId(doc).get("listUsergroupProductId")!;
    const backSchema = responseSchema(doc, back.op, 200, "application/vnd.api+json");
    const rows = await api(s, "GET", `/api/usergroup/${groupId}/product_id`);
    expect(rows.body.data[0].attributes.relation_reference_id).toBe(productId);
    expect(undeclaredAttributes(doc, backSchema, rows.body)).toEqual([]);
    // A relation's own columns are declared with the join row's facts.
    const dir = tempDir("daptin-openapi-join-");
    writeFileSync(
      join(dir, "schema_post.yaml"),
      "Tables:\n  - TableName: post\n    Columns: [{Name: title, ColumnType: label, DataType: varchar(50)}]\n  - TableName: tag\n    Columns: [{Name: label, ColumnType: label, DataType: varchar(50)}]\n" +
        "Relations:\n  - Subject: post\n    Relation: has_many\n    Object: tag\n    Columns: [{Name: weight, ColumnType: measurement, DataType: int(11), IsNullable: true}]\n",
    );
    const other = await startServer({ dir });
    try {
      const post = (await api(other, "POST", "/api/post", { data: { type: "post", attributes: { title: "Hello" } } })).body.data.id;
      const tag = (await api(other, "POST", "/api/tag", { data: { type: "tag", attributes: { label: "news" } } })).body.data.id;
      const linked = await api(other, "POST", `/api/post/${post}/relationships/tag_id`, { data: [{ type: "tag", id: tag, attributes: { weight: 3 } }] });
      expect(linked.status).toBe(204);
      const d: Doc = JSON.parse(await (await fetch(`${other.url}/openapi.json`)).text());
      const tagged = byOperationId(d).get("listPostTagId")!;
      const tagsSchema = responseSchema(d, tagged.op, 200, "application/vnd.api+json");
      const tags = await api(other, "GET", `/api/post/${post}/tag_id`);
      expect(tags.body.data[0].attributes).toMatchObject({ label: "news", weight: 3, relation_reference_id: tag });
      expect(undeclaredAttributes(d, tagsSchema, tags.body)).toEqual([]);
      expect(new SchemaChecker(d).check(tagsSchema, tags.body)).toEqual([]);
      expect(await swaggerProblem(d)).toBe("");
    } finally {
      await other.stop();
      rmSync(dir, { recursive: true, force: true });
    }
    // Without these schemas the attributes were there but not declared.
    expect(undeclaredAttributes(doc, { $ref: "#/components/schemas/UsergroupListDocument" }, r.body).sort()).toEqual([
      "join_reference_id", "relation_created_at", "relation_permission", "relation_reference_id", "relation_updated_at",
    ]);
  }, 30000);
});

describe("a generated TypeScript client", () => {
  test("openapi-typescript types + openapi-fetch: signup, signin, create, get, update, list, delete", async () => {
    const gen = await run([BIN("openapi-typescript"), `${s.url}/openapi.yaml`, "-o", join(work, "schema.d.ts")], work);
    expect(gen.stderr.includes("✘") || gen.code !== 0 ? `${gen.code}\n${gen.stdout}\n${gen.stderr}` : "").toBe("");

    copyFileSync(join(FIXTURES, "openapi-client.ts.txt"), join(work, "client.ts"));
    writeFileSync(
      join(work, "config.ts"),
      `export const BASE_URL = ${JSON.stringify(s.url)};\nexport const EMAIL = "client@example.com";\nexport const PASSWORD = "typed client pass";\n`,
    );
    // openapi-fetch is resolved from the project's node_modules through `paths`, which tsc and bun both read.
    writeFileSync(
      join(work, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2022",
          module: "ESNext",
          moduleResolution: "bundler",
          lib: ["ES2022", "DOM"],
          types: [],
          strict: true,
          noEmit: true,
          paths: { "openapi-fetch": [join(ROOT, "node_modules/openapi-fetch")] },
        },
        files: ["client.ts"],
      }),
    );
    const tsc = await run([BIN("tsc"), "--noEmit", "-p", join(work, "tsconfig.json")], work);
    expect(`${tsc.code}\n${tsc.stdout}${tsc.stderr}`).toBe("0\n");

    const client = await run([process.execPath, join(work, "client.ts")], work);
    expect(client.stderr).toBe("");
    expect(client.code).toBe(0);
    const steps = Object.fromEntries(
      client.stdout
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line))
        .map((x) => [x.step, x]),
    );
    expect(steps.signup).toEqual({ step: "signup", status: 200, responseTypes: ["client.notify", "client.redirect"] });
    expect(steps.signin).toEqual({ step: "signin", status: 200, tokenParts: 3 });
    const id = steps.create.id;
    expect(steps.create).toEqual({ step: "create", status: 201, id, type: "product", name: "Typed hammer", price: 9.5 });
    expect(steps.get).toEqual({ step: "get", status: 200, id, name: "Typed hammer" });
    expect(steps.update).toEqual({ step: "update", status: 200, price: 12.25, name: "Typed hammer" });
    expect(steps.list).toMatchObject({ step: "list", status: 200, found: true });
    expect(steps.filter).toEqual({ step: "filter", status: 200, ids: [true], perPage: 5 });
    expect(steps.links).toEqual({ step: "links", status: 200, count: 1, idIsTheLink: true, groupOfLink: true, name: "typed group", permission: "number" });
    expect(steps.delete).toEqual({ step: "delete", status: 200, after: 404, errorStatus: "404" });
    expect((await api(s, "GET", `/api/product/${id}`)).status).toBe(404);
  }, 60000);
});

describe("responses match the documented schemas", () => {
  test("every GET on the product and category routes answers its documented 200 schema", async () => {
    const checker = new SchemaChecker(doc);
    const ids: Record<string, string[]> = { product: [productId, loneProductId], category: [categoryId] };
    const gets = operations(doc).filter((o) => o.method === "get" && /^\/api\/(product|category)(\/|$)/.test(o.path));
    expect(gets.length).toBeGreaterThanOrEqual(10);
    const problems: string[] = [];
    let checked = 0;
    for (const o of gets) {
      const table = o.path.split("/")[2]!;
      const urls = o.path.includes("{id}") ? ids[table]!.map((id) => o.path.replace("{id}", id)) : [o.path];
      if (o.path === `/api/${table}`) urls.push(`/api/${table}?included_relations=*`, `/api/${table}?page[size]=1&page[number]=2`);
      for (const url of urls) {
        const r = await get(url);
        checked++;
        if (r.status !== 200) {
          problems.push(`${o.op.operationId} GET ${url}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
          continue;
        }
        const schema = responseSchema(doc, o.op, 200, r.type);
        const errors = checker.check(schema, JSON.parse(r.text));
        if (errors.length) problems.push(`${o.op.operationId} GET ${url}: ${errors.join("; ")} — body ${r.text.slice(0, 300)}`);
        const undeclared = undeclaredAttributes(doc, schema, JSON.parse(r.text));
        if (undeclared.length) problems.push(`${o.op.operationId} GET ${url}: attributes not in the schema: ${undeclared.join(", ")}`);
      }
    }
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThanOrEqual(gets.length);
    // The checker itself says no to a body that breaks the documented types.
    const list = byOperationId(doc).get("listProduct")!;
    const wrong = { links: {}, data: [{ type: "product", id: productId, attributes: { __type: "product", price: "cheap" } }] };
    expect(checker.check(responseSchema(doc, list.op, 200, "application/vnd.api+json"), wrong).length).toBeGreaterThan(0);
  }, 20000);

  test("a 404 answers the documented error document", async () => {
    const checker = new SchemaChecker(doc);
    const ops = byOperationId(doc);
    const missing = "01922e1a-d5ea-71c9-bd3e-616d23780f93";
    const cases: [string, string, unknown?][] = [
      ["getProduct", "GET"],
      ["updateProduct", "PATCH", { data: { type: "product", id: missing, attributes: { price: 1 } } }],
      ["deleteCategory", "DELETE"],
    ];
    for (const [operationId, method, body] of cases) {
      const o = ops.get(operationId);
      expect(o).toBeDefined();
      const path = o!.path.replace("{id}", missing);
      const r = await api(s, method, path, body);
      expect(`${operationId} ${r.status}`).toBe(`${operationId} 404`);
      expect(r.body.errors[0].status).toBe("404");
      expect(checker.check(responseSchema(doc, o!.op, 404, r.headers.get("content-type") ?? ""), r.body)).toEqual([]);
    }
  });
});

// Last: this locks the instance down.
describe("after lock-down", () => {
  let token: string;

  beforeAll(async () => {
    const attrs = { email: "admin@example.com", password: "admin password", name: "admin", passwordConfirm: "admin password" };
    expect((await api(s, "POST", "/action/user_account/signup", { attributes: attrs })).status).toBe(200);
    const inn = await api(s, "POST", "/action/user_account/signin", { attributes: { email: attrs.email, password: attrs.password } });
    expect(inn.status).toBe(200);
    token = inn.body[0].Attributes.value;
    const admin = await api(s, "POST", "/action/world/become_an_administrator", "{}", { Authorization: `Bearer ${token}` });
    expect(admin.status).toBe(200);
  }, 20000);

  test("a guest's document leaves out admin-only tables, keeps sign-in, and still validates", async () => {
    const j = await get("/openapi.json");
    expect(j.status).toBe(200);
    const guest: Doc = JSON.parse(j.text);
    const paths = Object.keys(guest.paths);
    expect(paths.filter((p) => p === "/api/world" || p.startsWith("/api/world/") || p.startsWith("/api/_config"))).toEqual([]);
    expect(paths.length).toBeLessThan(Object.keys(doc.paths).length);
    expect(byOperationId(guest).get("executeUserAccountSignin")?.path).toBe("/action/user_account/signin");
    // Nothing dangling where tables were left out.
    expect(await swaggerProblem(guest)).toBe("");
    const y = await get("/openapi.yaml");
    expect(firstDifference(parseYaml(y.text), guest)).toBeNull();
    expect((await get("/apispec.yaml")).text).toBe(y.text);
  }, 20000);

  test("?full=1 is honoured only for administrators", async () => {
    const guestFull = await get("/openapi.json?full=1");
    if (guestFull.status === 200) {
      expect(Object.keys(JSON.parse(guestFull.text).paths)).not.toContain("/api/world");
    } else {
      expect(guestFull.status).toBe(403);
    }
    const adminFull = await get("/openapi.json?full=1", token);
    expect(adminFull.status).toBe(200);
    const full: Doc = JSON.parse(adminFull.text);
    expect(Object.keys(full.paths)).toContain("/api/world");
    expect(firstDifference(full, JSON.parse((await get("/openapi.json", token)).text))).toBeNull();
  });

  test("the administrator sees every table, and `daptin apispec` prints that document as JSON and YAML", async () => {
    const admin: Doc = JSON.parse((await get("/openapi.json", token)).text);
    const ops = byOperationId(admin);
    for (const id of ["listWorld", "getWorld", "listUserAccount", "listProduct", "listCategory", "executeUserAccountSignin"]) {
      expect(ops.has(id)).toBe(true);
    }
    expect(Object.keys(admin.paths)).toContain("/api/world");

    const [json, yaml] = await Promise.all([
      runCli(["apispec", "--format", "json", "--db", s.db], { cwd: s.dir }),
      runCli(["apispec", "--format", "yaml", "--db", s.db], { cwd: s.dir }),
    ]);
    expect(`${json.code} ${json.stderr}`).toBe("0 ");
    expect(`${yaml.code} ${yaml.stderr}`).toBe("0 ");
    const fromJson: Doc = JSON.parse(json.stdout);
    const fromYaml: Doc = parseYaml(yaml.stdout);
    expect(firstDifference(fromJson, fromYaml)).toBeNull();
    expect(firstDifference(withoutServers(fromJson), withoutServers(admin))).toBeNull();
    // apispec only reads: a path with no database is an error, and no file is created there.
    const fresh = join(tempDir(), "fresh.db");
    const none = await runCli(["apispec", "--format", "json", "--db", fresh]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(`no database at ${fresh}`);
    expect(await Bun.file(fresh).exists()).toBe(false);
  }, 30000);
});
