// Relations end to end: project (1) -> todo (n) <-> tag (n), with includes, linkage endpoints, sharing and deletes.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, FIXTURES, runCli, startServer, tempDir, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
const P: Record<string, string> = {};
const T: Record<string, string> = {};
const G: Record<string, string> = {};

const create = async (type: string, attributes: Record<string, unknown>, relationships?: Record<string, unknown>, headers: Record<string, string> = {}) => {
  const r = await api(s, "POST", `/api/${type}`, { data: { type, attributes, ...(relationships ? { relationships } : {}) } }, headers);
  expect(r.status).toBe(201);
  return r.body.data.id as string;
};
const ids = (r: { body: any }) => r.body.data.map((d: any) => d.id).sort();
const linkage = (type: string, ...list: string[]) => ({ data: list.map((id) => ({ type, id })) });

beforeAll(async () => {
  const dir = tempDir();
  copyFileSync(join(FIXTURES, "schema_todo.yaml"), join(dir, "schema_todo.yaml"));
  s = await startServer({ dir, env: { DAPTIN_DEBUG_SQL_COUNT: "1" } });
  for (const name of ["home", "work"]) P[name] = await create("project", { name });
  for (const label of ["red", "green", "blue"]) G[label] = await create("tag", { label });
  T.a = await create("todo", { title: "a" }, {
    project_id: { data: { type: "project", id: P.home } },
    tag_id: linkage("tag", G.red!, G.green!),
  });
  for (const t of ["b", "c", "d"]) T[t] = await create("todo", { title: t, project_id: P.home });
  T.e = await create("todo", { title: "e" }, { project_id: { data: { type: "project", id: P.work } } });
});
afterAll(async () => {
  await s.stop();
});

describe("create with relationships and list related", () => {
  test("to-one and many-to-many set on create show up on read", async () => {
    const r = await api(s, "GET", `/api/todo/${T.a}`);
    expect(r.body.data.attributes.project_id).toBe(P.home);
    expect(r.body.data.relationships.project_id.data).toEqual({ type: "project", id: P.home });
    expect(r.body.data.relationships.tag_id.links.related).toBe(`/api/todo/${T.a}/tag_id`);
  });

  test("GET /api/todo/{id}/tag_id lists only the linked tags, with join facts", async () => {
    const r = await api(s, "GET", `/api/todo/${T.a}/tag_id`);
    expect(r.status).toBe(200);
    expect(ids(r)).toEqual([G.red, G.green].sort());
    expect(r.body.links.total).toBe(2);
    const one = r.body.data[0].attributes;
    expect(one.relation_reference_id).toBe(r.body.data[0].id);
    expect(typeof one.join_reference_id).toBe("string");
    expect(typeof one.relation_created_at).toBe("string");
    // The other side of a many-to-many: tag -> todos.
    const back = await api(s, "GET", `/api/tag/${G.red}/todo_id`);
    expect(ids(back)).toEqual([T.a]);
    expect((await api(s, "GET", `/api/tag/${G.blue}/todo_id`)).body.data).toEqual([]);
  });

  test("children of a project: paged, sorted, filtered like any list", async () => {
    const all = await api(s, "GET", `/api/project/${P.home}/todo_id?sort=title`);
    expect(all.body.data.map((t: any) => t.attributes.title)).toEqual(["a", "b", "c", "d"]);
    const page = await api(s, "GET", `/api/project/${P.home}/todo_id?sort=-title&page[size]=2&page[number]=2`);
    expect(page.body.data.map((t: any) => t.attributes.title)).toEqual(["b", "a"]);
    expect(page.body.links).toMatchObject({ total: 4, per_page: 2, current_page: 2, last_page: 2 });
    const q = await api(s, "GET", `/api/project/${P.home}/todo_id?query=${encodeURIComponent(JSON.stringify([{ column: "title", operator: "in", value: ["b", "e"] }]))}`);
    expect(q.body.data.map((t: any) => t.attributes.title)).toEqual(["b"]);
  });

  test("a to-one relation answers one resource (or null)", async () => {
    const r = await api(s, "GET", `/api/todo/${T.e}/project_id`);
    expect(r.body.data.id).toBe(P.work);
    expect(r.body.data.type).toBe("project");
    const owner = await api(s, "GET", `/api/todo/${T.e}/user_account_id`);
    expect(owner.body.data).toBeNull();
    expect((await api(s, "GET", `/api/todo/${T.e}/nope`)).status).toBe(404);
  });
});

describe("linkage endpoints", () => {
  test("add, replace, remove many-to-many links; read the linkage", async () => {
    const rel = `/api/todo/${T.b}/relationships/tag_id`;
    expect((await api(s, "GET", rel)).body.data).toEqual([]);
    expect((await api(s, "POST", rel, linkage("tag", G.red!))).status).toBe(204);
    expect((await api(s, "POST", rel, linkage("tag", G.red!, G.blue!))).status).toBe(204); // adding twice is harmless
    expect((await api(s, "GET", rel)).body.data.map((d: any) => d.id).sort()).toEqual([G.red, G.blue].sort());
    // PATCH adds to a to-many set, as in Daptin; meta.replace asks for the JSON:API meaning (replace the set).
    expect((await api(s, "PATCH", rel, linkage("tag", G.green!))).status).toBe(204);
    expect((await api(s, "GET", rel)).body.data.map((d: any) => d.id).sort()).toEqual([G.red, G.green, G.blue].sort());
    expect((await api(s, "PATCH", rel, { ...linkage("tag", G.green!), meta: { replace: true } })).status).toBe(204);
    expect((await api(s, "GET", rel)).body.data).toEqual([{ type: "tag", id: G.green }]);
    expect((await api(s, "DELETE", rel, linkage("tag", G.green!, G.red!))).status).toBe(204);
    expect((await api(s, "GET", rel)).body.data).toEqual([]);
    expect((await api(s, "PATCH", rel, linkage("tag", G.blue!))).status).toBe(204);
    // An empty list adds nothing; replacing with an empty list clears the set.
    expect((await api(s, "PATCH", rel, { data: [] })).status).toBe(204);
    expect((await api(s, "GET", rel)).body.data).toEqual([{ type: "tag", id: G.blue }]);
    expect((await api(s, "PATCH", rel, { data: [], meta: { replace: true } })).status).toBe(204);
    expect((await api(s, "GET", rel)).body.data).toEqual([]);
    expect((await api(s, "PATCH", rel, { data: [], meta: { replace: "yes" } })).status).toBe(400);
    expect((await api(s, "POST", rel, { data: [], meta: { replace: true } })).status).toBe(400);
  });

  test("to-one: set with PATCH, clear with null when nullable, refused when required", async () => {
    const rel = `/api/todo/${T.c}/relationships/project_id`;
    expect((await api(s, "PATCH", rel, { data: { type: "project", id: P.work } })).status).toBe(204);
    expect((await api(s, "GET", rel)).body.data).toEqual({ type: "project", id: P.work });
    const cleared = await api(s, "PATCH", rel, { data: null });
    expect(cleared.status).toBe(422); // todo belongs_to project: the link is required
    expect((await api(s, "GET", `/api/todo/${T.c}`)).body.data.attributes.project_id).toBe(P.work);
    // The owner link is nullable: null clears it.
    expect((await api(s, "PATCH", `/api/todo/${T.c}/relationships/user_account_id`, { data: null })).status).toBe(204);
  });

  test("children through the parent: add moves a todo, replace and remove need a nullable link", async () => {
    const rel = `/api/project/${P.work}/relationships/todo_id`;
    expect((await api(s, "POST", rel, linkage("todo", T.d!))).status).toBe(204);
    expect((await api(s, "GET", `/api/todo/${T.d}`)).body.data.attributes.project_id).toBe(P.work);
    const r = await api(s, "DELETE", rel, linkage("todo", T.d!));
    expect(r.status).toBe(409);
    expect(r.body.errors[0].detail).toContain("project_id");
  });

  test("bad linkage bodies are 400s and change nothing", async () => {
    const rel = `/api/todo/${T.a}/relationships/tag_id`;
    const before = (await api(s, "GET", rel)).body.data;
    for (const body of ["{", { nodata: 1 }, { data: [{ type: "tag" }] }, { data: [{ id: "nope" }] }, { data: 7 }]) {
      const r = await api(s, "POST", rel, body);
      expect(r.status).toBe(400);
    }
    expect((await api(s, "POST", rel, linkage("tag", "01922e1a-d5ea-71c9-bd3e-616d23780f93"))).status).toBe(422);
    expect((await api(s, "GET", rel)).body.data).toEqual(before);
    expect((await api(s, "PUT", rel, linkage("tag", G.red!))).status).toBe(405);
  });
});

describe("includes", () => {
  test("included_relations and include fill `included` once per resource", async () => {
    for (const param of ["included_relations=project_id,tag_id", "include=project_id,tag_id"]) {
      const r = await api(s, "GET", `/api/todo?sort=title&${param}`);
      expect(r.status).toBe(200);
      const inc = r.body.included.map((x: any) => `${x.type}/${x.id}`);
      expect(new Set(inc).size).toBe(inc.length);
      expect(inc).toContain(`project/${P.home}`);
      expect(inc).toContain(`project/${P.work}`);
      expect(inc).toContain(`tag/${G.red}`);
      const a = r.body.data.find((t: any) => t.id === T.a);
      expect(a.relationships.tag_id.data.map((d: any) => d.id).sort()).toEqual([G.red, G.green].sort());
      expect(a.attributes.tag_id.sort()).toEqual([G.red, G.green].sort());
    }
    const one = await api(s, "GET", `/api/todo/${T.a}?included_relations=project`);
    expect(one.body.included.map((x: any) => x.id)).toEqual([P.home]);
    const rev = await api(s, "GET", `/api/project/${P.home}?include=todo_id`);
    expect(rev.body.included.every((x: any) => x.type === "todo")).toBe(true);
    expect((await api(s, "GET", "/api/todo?include=nope")).status).toBe(400);
  });

  test("the number of SQL statements per request does not grow with the rows", async () => {
    const count = async (path: string) => Number((await api(s, "GET", path)).headers.get("x-daptin-sql-statements"));
    const path = "/api/todo?page[size]=100&included_relations=project_id,tag_id,user_account_id";
    await count(path); // warms the table-permission and total caches
    const small = await count(path);
    for (let i = 0; i < 30; i++) {
      await create("todo", { title: `bulk ${i}` }, { project_id: { data: { type: "project", id: i % 2 ? P.home : P.work } }, tag_id: linkage("tag", G.blue!) });
    }
    await count(path); // totals are cached until a write: warm both sides the same way
    const big = await count(path);
    expect(small).toBeGreaterThan(0);
    expect(big).toBe(small);
    expect(await count(`/api/project/${P.home}/todo_id?include=tag_id`)).toBeLessThanOrEqual(small + 2);
  });
});

describe("sharing, refer and deletes", () => {
  let admin: string, bob: string, carol: string, team: string;
  const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
  const signinAs = async (email: string) => {
    const r = await api(s, "POST", "/action/user_account/signin", { attributes: { email, password: "correct horse" } });
    return r.body[0].Attributes.value as string;
  };

  beforeAll(async () => {
    for (const e of ["admin@x.io", "bob@x.io", "carol@x.io"]) {
      await api(s, "POST", "/action/user_account/signup", { attributes: { email: e, name: e, password: "correct horse", passwordConfirm: "correct horse" } });
    }
    admin = await signinAs("admin@x.io");
    expect((await api(s, "POST", "/action/world/become_an_administrator", {}, bearer(admin))).status).toBe(200);
    bob = await signinAs("bob@x.io");
    carol = await signinAs("carol@x.io");
    team = await create("usergroup", { name: "team" }, undefined, bearer(admin));
    // bob joins the team through the user's relation to groups.
    const bobId = (await api(s, "GET", "/api/user_account", undefined, bearer(bob))).body.data[0].id;
    expect((await api(s, "POST", `/api/user_account/${bobId}/relationships/usergroup_id`, linkage("usergroup", team), bearer(admin))).status).toBe(204);
  });

  test("sharing a row with a group is one call; members see it at once, others do not", async () => {
    const secret = await create("todo", { title: "shared plan", project_id: P.home }, undefined, bearer(admin));
    expect((await api(s, "GET", `/api/todo/${secret}`, undefined, bearer(bob))).status).toBe(403);
    const share = await api(s, "POST", `/api/todo/${secret}/relationships/usergroup_id`, {
      data: [{ type: "usergroup", id: team, attributes: { permission: { group: ["peek", "read"] } } }],
    }, bearer(admin));
    expect(share.status).toBe(204);
    expect((await api(s, "GET", `/api/todo/${secret}`, undefined, bearer(bob))).status).toBe(200);
    expect((await api(s, "GET", `/api/todo/${secret}`, undefined, bearer(carol))).status).toBe(403);
    // As in Daptin (and as daptin-js-client reads it): a row's groups are listed as the links, with the group's id
    // in relation_reference_id and the link's permission; the link's id is what a permission change PATCHes.
    const groups = await api(s, "GET", `/api/todo/${secret}/usergroup_id?page[size]=1000`, undefined, bearer(admin));
    const link = groups.body.data[0];
    expect(link.type).toBe("usergroup");
    expect(link.id).not.toBe(team);
    expect(link.attributes.reference_id).toBe(link.id);
    expect(link.attributes.join_reference_id).toBe(link.id);
    expect(link.attributes.relation_reference_id).toBe(team);
    expect(link.attributes.name).toBe("team");
    expect(link.attributes.permission).toBe(16384 + 32768);
    expect(link.attributes.relation_permission).toBe(16384 + 32768);
    // daptin-js-client's updateObjectUsergroupPermission: PATCH the join row found that way.
    const joinTable = "todo_todo_id_has_usergroup_usergroup_id";
    const patched = await api(s, "PATCH", `/api/${joinTable}/${link.id}`, { data: { type: joinTable, id: link.id, attributes: { permission: 32768 } } }, bearer(admin));
    expect(patched.status).toBe(200);
    const again = await api(s, "GET", `/api/todo/${secret}/usergroup_id`, undefined, bearer(admin));
    expect(again.body.data[0].attributes.permission).toBe(32768);
    expect((await api(s, "GET", `/api/todo/${secret}`, undefined, bearer(bob))).status).toBe(200);
    // The other side lists the same links: the group's rows, each with the link's id.
    const rows = await api(s, "GET", `/api/usergroup/${team}/todo_id`, undefined, bearer(admin));
    expect(rows.body.data.map((r: any) => [r.id, r.attributes.relation_reference_id])).toEqual([[link.id, secret]]);
    // The linkage still names the groups themselves.
    expect((await api(s, "GET", `/api/todo/${secret}/relationships/usergroup_id`, undefined, bearer(admin))).body.data).toEqual([{ type: "usergroup", id: team }]);
    // Unsharing takes it away again.
    expect((await api(s, "DELETE", `/api/todo/${secret}/relationships/usergroup_id`, linkage("usergroup", team), bearer(admin))).status).toBe(204);
    expect((await api(s, "GET", `/api/todo/${secret}`, undefined, bearer(bob))).status).toBe(403);
  });

  test("linking to a row the caller may not refer to is denied", async () => {
    const r = await api(s, "PATCH", `/api/todo/${T.a}/relationships/project_id`, { data: { type: "project", id: P.work } }, bearer(bob));
    expect(r.status).toBe(403);
    const created = await api(s, "POST", "/api/todo", { data: { type: "todo", attributes: { title: "mine", project_id: P.home } } }, bearer(bob));
    expect(created.status).toBe(403); // the table is not open to users for create after lock-down
  });

  test("including never reveals a row the caller cannot read", async () => {
    const r = await api(s, "GET", `/api/todo?include=project_id`, undefined, bearer(carol));
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual([]);
    expect(r.body.included ?? []).toEqual([]);
  });

  test("deletes leave no orphaned join rows; a project with todos cannot be deleted", async () => {
    const a = bearer(admin);
    const tagJoin = "todo_todo_id_has_tag_tag_id";
    const linksOf = async (q: string) => (await api(s, "GET", `/api/${tagJoin}?page[size]=1000&${q}`, undefined, a)).body.links.total;
    expect(await linksOf(`tag_id=${G.red}`)).toBeGreaterThan(0);
    expect((await api(s, "DELETE", `/api/tag/${G.red}`, undefined, a)).status).toBe(200);
    expect(await linksOf(`tag_id=${G.red}`)).toBe(0);
    expect(await linksOf(`todo_id=${T.a}`)).toBe(1); // green is still there
    expect((await api(s, "DELETE", `/api/todo/${T.a}`, undefined, a)).status).toBe(200);
    expect(await linksOf(`todo_id=${T.a}`)).toBe(0);
    const blocked = await api(s, "DELETE", `/api/project/${P.work}`, undefined, a);
    expect(blocked.status).toBe(409);
    expect(blocked.body.errors[0].detail).toMatch(/todo row.*project_id/);
    expect((await api(s, "GET", `/api/project/${P.work}`, undefined, a)).status).toBe(200);
  });
});

describe("schema apply with relations", () => {
  test("a new relation plans its FK column or join table; a required link on a populated table is refused", async () => {
    const dir = tempDir();
    const db = join(dir, "r.db");
    expect((await runCli(["schema", "apply", join(FIXTURES, "schema_todo.yaml"), "--db", db])).code).toBe(0);
    const more = join(dir, "more.yaml");
    writeFileSync(more, "Tables:\n  - TableName: person\n    Columns: [{Name: name, ColumnType: label, DataType: varchar(10)}]\nRelations:\n  - {Subject: todo, Relation: has_one, Object: person, ObjectName: assignee_id}\n  - {Subject: project, Relation: has_many, Object: person, ObjectName: member_id}\n");
    const r = await runCli(["schema", "apply", more, "--db", db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("add column todo.assignee_id");
    expect(r.stdout).toContain("create join table project_project_id_has_person_member_id");
    const srv = await startServer({ dir: tempDir(), args: ["--db", db] });
    const p = (await api(srv, "POST", "/api/project", { data: { type: "project", attributes: { name: "x" } } })).body.data.id;
    await api(srv, "POST", "/api/todo", { data: { type: "todo", attributes: { title: "t", project_id: p } } });
    await srv.stop();
    const required = join(dir, "required.yaml");
    writeFileSync(required, "Relations:\n  - {Subject: todo, Relation: belongs_to, Object: person, ObjectName: reviewer_id}\n");
    const refused = await runCli(["schema", "apply", required, "--db", db]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("todo.reviewer_id");
  });
});
