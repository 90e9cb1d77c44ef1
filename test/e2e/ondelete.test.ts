// OnDelete over HTTP: restrict refuses, cascade deletes the pointing rows (and theirs), set_null clears links; the
// totals and pages a server remembers follow every row a delete reaches, and deleting a group or an account is seen
// by the next request of its members.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, startServer, tempDir, type TestServer } from "../helpers/daptin.ts";

const SCHEMA = `Tables:
  - TableName: author
    Columns:
      - {Name: name, ColumnType: label, DataType: varchar(100)}
  - TableName: post
    Columns:
      - {Name: title, ColumnType: label, DataType: varchar(100)}
  - TableName: comment
    Columns:
      - {Name: body, ColumnType: content, DataType: text}
  - TableName: badge
    Columns:
      - {Name: label, ColumnType: label, DataType: varchar(100)}
Relations:
  - {Subject: post, Relation: belongs_to, Object: author, OnDelete: cascade}
  - {Subject: comment, Relation: belongs_to, Object: post, OnDelete: cascade}
  - {Subject: badge, Relation: has_one, Object: post, OnDelete: set_null}
  - {Subject: badge, Relation: belongs_to, Object: author}
`;

let s: TestServer;

const create = async (type: string, attributes: Record<string, unknown>): Promise<string> => {
  const r = await api(s, "POST", `/api/${type}`, { data: { type, attributes } });
  expect(r.status).toBe(201);
  return r.body.data.id;
};
const total = async (type: string, extra = "") => (await api(s, "GET", `/api/${type}?page[size]=2&sort=id${extra}`)).body.links.total;

beforeAll(async () => {
  const dir = tempDir();
  writeFileSync(join(dir, "schema_blog.yaml"), SCHEMA);
  s = await startServer({ dir });
});
afterAll(async () => {
  await s.stop();
});

describe("OnDelete", () => {
  test("cascade reaches comments through posts, set_null clears badges, restrict refuses; totals follow", async () => {
    const ann = await create("author", { name: "ann" });
    const bob = await create("author", { name: "bob" });
    const posts = [await create("post", { title: "a1", author_id: ann }), await create("post", { title: "a2", author_id: ann }), await create("post", { title: "b1", author_id: bob })];
    for (const p of posts) for (let i = 0; i < 3; i++) await create("comment", { body: `on ${p} #${i}`, post_id: p });
    const badge = await create("badge", { label: "gold", post_id: posts[0], author_id: bob });
    // Remembered totals (and a deep page's bookmark) before the delete.
    expect(await total("post")).toBe(3);
    expect(await total("comment")).toBe(9);
    expect((await api(s, "GET", "/api/comment?page[size]=2&page[number]=4&sort=id")).body.data.length).toBe(2);

    // bob has a badge that belongs_to him (restrict by default): refused, nothing changes.
    const refused = await api(s, "DELETE", `/api/author/${bob}`);
    expect(refused.status).toBe(409);
    expect(refused.body.errors[0].detail).toContain("badge");
    expect(await total("post")).toBe(3);

    expect((await api(s, "DELETE", `/api/author/${ann}`)).status).toBe(200);
    expect(await total("post")).toBe(1);
    expect(await total("comment")).toBe(3);
    const page = await api(s, "GET", "/api/comment?page[size]=2&page[number]=2&sort=id");
    expect(page.body.data.map((c: any) => c.attributes.body)).toEqual([`on ${posts[2]} #2`]);
    const b = await api(s, "GET", `/api/badge/${badge}`);
    expect(b.body.data.attributes.post_id).toBeNull();
    expect(await total("badge", `&post_id=${posts[0]}`)).toBe(0);
  });

  test("deleting a group is seen by its members' next request; deleting an account ends its tokens", async () => {
    const signup = async (email: string) => {
      const up = await api(s, "POST", "/action/user_account/signup", { attributes: { email, password: "correct horse", passwordConfirm: "correct horse", name: email } });
      expect(up.status).toBe(200);
      const inn = await api(s, "POST", "/action/user_account/signin", { attributes: { email, password: "correct horse" } });
      return inn.body[0].Attributes.value as string;
    };
    const admin = await signup("admin@example.com");
    expect((await api(s, "POST", "/action/world/become_an_administrator", "{}", { Authorization: `Bearer ${admin}` })).status).toBe(200);
    const asAdmin = { Authorization: `Bearer ${admin}` };
    const up = await api(s, "POST", "/action/user_account/signup", { attributes: { email: "dee@example.com", password: "correct horse", passwordConfirm: "correct horse", name: "dee" } }, asAdmin);
    expect(up.status).toBe(200);
    const dee = (await api(s, "POST", "/action/user_account/signin", { attributes: { email: "dee@example.com", password: "correct horse" } })).body[0].Attributes.value as string;
    const asDee = { Authorization: `Bearer ${dee}` };

    const group = (await api(s, "POST", "/api/usergroup", { data: { type: "usergroup", attributes: { name: "editors" } } }, asAdmin)).body.data.id;
    const deeRef = JSON.parse(Buffer.from(dee.split(".")[1]!, "base64url").toString()).sub;
    expect((await api(s, "POST", `/api/user_account/${deeRef}/relationships/usergroup_id`, { data: [{ type: "usergroup", id: group }] }, asAdmin)).status).toBe(204);
    const secret = (await api(s, "POST", "/api/author", { data: { type: "author", attributes: { name: "secret" } } }, asAdmin)).body.data.id;
    expect((await api(s, "POST", `/api/author/${secret}/relationships/usergroup_id`, { data: [{ type: "usergroup", id: group }] }, asAdmin)).status).toBe(204);
    expect((await api(s, "GET", `/api/author/${secret}`, undefined, asDee)).status).toBe(200);

    expect((await api(s, "DELETE", `/api/usergroup/${group}`, undefined, asAdmin)).status).toBe(200);
    expect((await api(s, "GET", `/api/author/${secret}`, undefined, asDee)).status).toBe(403);

    expect((await api(s, "DELETE", `/api/user_account/${deeRef}`, undefined, asAdmin)).status).toBe(200);
    const gone = await api(s, "GET", "/api/author", undefined, asDee);
    expect(gone.status).toBe(401);
    expect(gone.body.errors[0].detail).toContain("no longer exists");
  });
});
