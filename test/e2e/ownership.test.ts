// Who owns rows and who may change what others see: the owner is the caller unless an administrator says otherwise,
// only the owner changes a row's permission, a link written straight into a join table needs `update` on its
// subject row, list totals follow writes to sharing rows made through /api, and every 403 says "forbidden".
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt } from "jose";
import { api, startServer, tempDir, type TestServer } from "../helpers/daptin.ts";

// Tables open to everyone at table level (not the all-allowed 2097151, which lock-down narrows); rows: the owner may
// do everything, groups read, and anyone may refer to (link to) a note.
const SCHEMA = `Tables:
  - TableName: note
    Permission: 1048575
    DefaultPermission: {owner: all, group: [read], guest: [refer]}
    Columns:
      - {Name: title, ColumnType: label, DataType: varchar(100)}
Actions:
  - Name: quick_note
    Label: A note from the caller's attributes as given
    OnType: note
    InstanceOptional: true
    InFields:
      - {Name: title, ColumnName: title, ColumnType: label}
    OutFields:
      - {Type: note, Method: POST}
`;
const SHARE = "note_note_id_has_usergroup_usergroup_id";
const MEMBER = "user_account_user_account_id_has_usergroup_usergroup_id";

const bearer = (t?: string): Record<string, string> => (t ? { Authorization: `Bearer ${t}` } : {});
const action = (s: TestServer, path: string, attributes: unknown, token?: string) => api(s, "POST", `/action/${path}`, { attributes }, bearer(token));
const q = (column: string, value: string) => encodeURIComponent(JSON.stringify([{ column, operator: "is", value }]));

async function serve(): Promise<TestServer> {
  const dir = tempDir();
  writeFileSync(join(dir, "schema_note.yaml"), SCHEMA);
  return startServer({ dir });
}
async function signup(s: TestServer, name: string, token?: string): Promise<void> {
  const r = await action(s, "user_account/signup", { email: `${name}@example.com`, password: "correct horse", name, passwordConfirm: "correct horse" }, token);
  expect(r.status).toBe(200);
}
async function signin(s: TestServer, name: string): Promise<string> {
  const r = await action(s, "user_account/signin", { email: `${name}@example.com`, password: "correct horse" });
  expect(r.status).toBe(200);
  return r.body[0].Attributes.value;
}
const note = (title: string, extra: { attributes?: Record<string, unknown>; relationships?: Record<string, unknown> } = {}) =>
  ({ data: { type: "note", attributes: { title, ...extra.attributes }, ...(extra.relationships ? { relationships: extra.relationships } : {}) } });
const owner = (id: string | null) => ({ user_account_id: { data: id === null ? null : { type: "user_account", id } } });

describe("on an open instance (no administrator yet)", () => {
  let s: TestServer;
  let ann: string;
  let annRef: string;
  beforeAll(async () => {
    s = await serve();
    await signup(s, "ann");
    ann = await signin(s, "ann");
    annRef = decodeJwt(ann).sub!;
  });
  afterAll(async () => {
    await s.stop();
  });
  const total = async () => (await api(s, "GET", "/api/note?page[size]=1", undefined, bearer(ann))).body.links.total as number;

  test("a guest cannot create a row owned by someone else, through the relationship or the attribute", async () => {
    const before = await total();
    const viaRelationship = await api(s, "POST", "/api/note", note("planted", { relationships: owner(annRef) }));
    expect(viaRelationship.status).toBe(403);
    expect(viaRelationship.body.errors[0].detail).toBe("forbidden: only an administrator may give a note another owner (user_account_id)");
    expect(await total()).toBe(before);
    // The attribute is ignored on create, as in Daptin: the row is the guest's (nobody's).
    const ignored = await api(s, "POST", "/api/note", note("planted", { attributes: { user_account_id: annRef } }));
    expect(ignored.body.data.attributes.user_account_id).toBeNull();
    // Naming the owner the row gets anyway is harmless: nobody for a guest, yourself for a user.
    const guests = await api(s, "POST", "/api/note", note("guest's", { relationships: owner(null) }));
    expect(guests.status).toBe(201);
    expect(guests.body.data.attributes.user_account_id).toBeNull();
    const own = await api(s, "POST", "/api/note", note("ann's", { relationships: owner(annRef) }), bearer(ann));
    expect(own.status).toBe(201);
    expect(own.body.data.attributes.user_account_id).toBe(annRef);
  });

  test("an action outcome creating from the caller's attributes (with raised rights) does not take an owner from them", async () => {
    const r = await action(s, "note/quick_note", { title: "via action", user_account_id: annRef });
    expect(r.status).toBe(200);
    expect(r.body[0].Attributes).toMatchObject({ title: "via action", user_account_id: null });
  });

  test("nobody but an administrator changes an owner: PATCH, the to-one route, or linking from the user's side", async () => {
    const guests = (await api(s, "POST", "/api/note", note("ownerless"))).body.data.id;
    const anns = (await api(s, "POST", "/api/note", note("ann's 2"), bearer(ann))).body.data.id;
    expect((await api(s, "PATCH", `/api/note/${guests}`, { data: { type: "note", attributes: { user_account_id: annRef } } })).status).toBe(403);
    expect((await api(s, "PATCH", `/api/note/${guests}`, { data: { type: "note", attributes: { user_account_id: annRef } } }, bearer(ann))).status).toBe(403);
    expect((await api(s, "PATCH", `/api/note/${anns}/relationships/user_account_id`, { data: null })).status).toBe(403);
    expect((await api(s, "PATCH", `/api/note/${anns}/relationships/user_account_id`, { data: null }, bearer(ann))).status).toBe(403);
    // The user's reverse relation holds the same column: linking a note there would claim it.
    const claim = await api(s, "POST", `/api/user_account/${annRef}/relationships/note_id`, { data: [{ type: "note", id: guests }] }, bearer(ann));
    expect(claim.status).toBe(403);
    const drop = await api(s, "DELETE", `/api/user_account/${annRef}/relationships/note_id`, { data: [{ type: "note", id: anns }] }, bearer(ann));
    expect(drop.status).toBe(403);
    const owners = new Database(s.db, { readonly: true });
    const ownerOf = (title: string) => owners.query<{ o: number | null }, [string]>("SELECT user_account_id AS o FROM note WHERE title = ?").get(title)!.o;
    expect(ownerOf("ownerless")).toBeNull();
    expect(ownerOf("ann's 2")).not.toBeNull();
    owners.close();
    // Setting the owner it already has changes nothing and is allowed.
    expect((await api(s, "PATCH", `/api/note/${anns}`, { data: { type: "note", attributes: { user_account_id: annRef, title: "still ann's" } } }, bearer(ann))).status).toBe(200);
  });
});

describe("after lock-down, with groups", () => {
  let s: TestServer;
  let admin: string;
  let bob: string;
  let carol: string;
  let team: string;
  const notes: Record<string, string> = {};
  beforeAll(async () => {
    s = await serve();
    await signup(s, "admin");
    admin = await signin(s, "admin");
    expect((await api(s, "POST", "/action/world/become_an_administrator", "{}", bearer(admin))).status).toBe(200);
    await signup(s, "bob", admin);
    await signup(s, "carol", admin);
    bob = await signin(s, "bob");
    carol = await signin(s, "carol");
    // The admin lets users write sharing rows through /api (Daptin's documented way to share a row) ...
    const world = await api(s, "GET", `/api/world?query=${q("table_name", SHARE)}`, undefined, bearer(admin));
    expect((await api(s, "PATCH", `/api/world/${world.body.data[0].id}`, { data: { type: "world", attributes: { permission: 1048575 } } }, bearer(admin))).status).toBe(200);
    // ... and makes a group bob is in, which its members may refer to.
    const group = await api(s, "POST", "/api/usergroup", { data: { type: "usergroup", attributes: { name: "team" } } }, bearer(admin));
    team = group.body.data.id;
    expect((await api(s, "PATCH", `/api/usergroup/${team}`, { data: { type: "usergroup", attributes: { permission: { group: ["peek", "read", "refer"] } } } }, bearer(admin))).status).toBe(200);
    const member = await api(s, "POST", `/api/${MEMBER}`, { data: { type: MEMBER, attributes: { user_account_id: decodeJwt(bob).sub, usergroup_id: team } } }, bearer(admin));
    expect(member.status).toBe(201);
    for (const key of ["carol-1", "carol-2", "carol-3"]) {
      const r = await api(s, "POST", "/api/note", note(key), bearer(carol));
      expect(r.status).toBe(201);
      notes[key] = r.body.data.id;
    }
  });
  afterAll(async () => {
    await s.stop();
  });
  const share = (noteId: string, token: string) =>
    api(s, "POST", `/api/${SHARE}`, { data: { type: SHARE, attributes: { note_id: noteId, usergroup_id: team } } }, bearer(token));
  const bobSees = async () => {
    const r = await api(s, "GET", "/api/note?page[size]=100", undefined, bearer(bob));
    return { total: r.body.links.total as number, rows: r.body.data.length as number };
  };

  test("a sharing row written through /api needs update on the shared row: bob cannot share carol's note with his group", async () => {
    const r = await share(notes["carol-1"]!, bob);
    expect(r.status).toBe(403);
    expect(r.body.errors[0].detail).toBe("forbidden: you may not update this note");
    expect(await bobSees()).toEqual({ total: 0, rows: 0 });
  });

  test("list totals follow sharing rows written, changed and deleted through /api", async () => {
    expect(await bobSees()).toEqual({ total: 0, rows: 0 });
    const shared = await share(notes["carol-2"]!, admin);
    expect(shared.status).toBe(201);
    expect(await bobSees()).toEqual({ total: 1, rows: 1 });
    expect((await share(notes["carol-3"]!, admin)).status).toBe(201);
    expect(await bobSees()).toEqual({ total: 2, rows: 2 });
    // Past the end is empty, and the page before it is full: the total is right.
    const pageTwo = await api(s, "GET", "/api/note?page[size]=1&page[number]=2", undefined, bearer(bob));
    expect(pageTwo.body.data.length).toBe(1);
    const revoke = await api(s, "PATCH", `/api/${SHARE}/${shared.body.data.id}`, { data: { type: SHARE, attributes: { permission: 0 } } }, bearer(admin));
    expect(revoke.status).toBe(200);
    expect(await bobSees()).toEqual({ total: 1, rows: 1 });
    expect((await api(s, "DELETE", `/api/${SHARE}/${shared.body.data.id}`, undefined, bearer(admin))).status).toBe(200);
    expect(await bobSees()).toEqual({ total: 1, rows: 1 });
  });

  test("a group that may edit a row may not change who sees it or who owns it", async () => {
    const id = notes["carol-1"]!;
    // Shared with the team, then (as Daptin does it) the grant set to group read + update.
    const grant = (await share(id, admin)).body.data.id;
    const edit = await api(s, "PATCH", `/api/${SHARE}/${grant}`, { data: { type: SHARE, attributes: { permission: { group: ["read", "update"] } } } }, bearer(admin));
    expect(edit.status).toBe(200);
    expect((await api(s, "PATCH", `/api/note/${id}`, { data: { type: "note", attributes: { title: "bob was here" } } }, bearer(bob))).status).toBe(200);
    const open = await api(s, "PATCH", `/api/note/${id}`, { data: { type: "note", attributes: { permission: 2097151 } } }, bearer(bob));
    expect(open.status).toBe(403);
    expect(open.body.errors[0].detail).toBe("forbidden: only the owner of this note or an administrator may change its permission");
    expect((await api(s, "PATCH", `/api/note/${id}/relationships/user_account_id`, { data: null }, bearer(bob))).status).toBe(403);
    const row = (await api(s, "GET", `/api/note/${id}`, undefined, bearer(carol))).body.data.attributes;
    expect(row).toMatchObject({ title: "bob was here", user_account_id: decodeJwt(carol).sub });
    expect(row.permission).not.toBe(2097151);
    // The owner may, and so may an administrator.
    expect((await api(s, "PATCH", `/api/note/${id}`, { data: { type: "note", attributes: { permission: { owner: "all" } } } }, bearer(carol))).status).toBe(200);
    const given = await api(s, "PATCH", `/api/note/${id}`, { data: { type: "note", attributes: { user_account_id: decodeJwt(bob).sub } } }, bearer(admin));
    expect(given.body.data.attributes.user_account_id).toBe(decodeJwt(bob).sub);
    const forBob = await api(s, "POST", "/api/note", note("for bob", { relationships: owner(decodeJwt(bob).sub!) }), bearer(admin));
    expect(forBob.body.data.attributes.user_account_id).toBe(decodeJwt(bob).sub);
  });

  test("no other way in: links to rows bob may not refer to, hidden columns in fields, includes of unreadable rows", async () => {
    const groups = await api(s, "GET", `/api/usergroup?query=${q("name", "administrators")}`, undefined, bearer(admin));
    const admins = groups.body.data[0].id;
    const viaCreate = await api(s, "POST", "/api/note", note("mine", { relationships: { usergroup_id: { data: [{ type: "usergroup", id: admins }] } } }), bearer(bob));
    expect(viaCreate.status).toBe(403);
    const mine = (await api(s, "POST", "/api/note", note("mine"), bearer(bob))).body.data.id;
    expect((await api(s, "POST", `/api/note/${mine}/relationships/usergroup_id`, { data: [{ type: "usergroup", id: admins }] }, bearer(bob))).status).toBe(403);
    const bobRef = decodeJwt(bob).sub!;
    const member = await api(s, "POST", `/api/${MEMBER}`, { data: { type: MEMBER, attributes: { user_account_id: bobRef, usergroup_id: admins } } }, bearer(bob));
    expect(member.status).toBe(403);
    for (const fields of ["auth_version", "id"]) {
      expect((await api(s, "GET", `/api/user_account/${bobRef}?fields=${fields}`, undefined, bearer(bob))).status).toBe(400);
    }
    expect((await api(s, "GET", `/api/user_account/${bobRef}?fields=password`, undefined, bearer(bob))).body.data.attributes.password).toBe("");
    // carol-3 is shared with bob's team; its owner's account is not readable by bob, so it is not included.
    const listed = await api(s, "GET", "/api/note?include=user_account_id&page[size]=100", undefined, bearer(bob));
    expect(listed.body.data.some((n: { id: string }) => n.id === notes["carol-3"])).toBe(true);
    expect((listed.body.included ?? []).filter((r: { type: string }) => r.type === "user_account").map((r: { id: string }) => r.id)).toEqual([bobRef]);
  });

  test("every 403 says forbidden, then why: tables, rows, actions", async () => {
    const table = await api(s, "POST", "/api/world", { data: { type: "world", attributes: { table_name: "x" } } }, bearer(bob));
    expect(table.status).toBe(403);
    expect(table.body.errors[0]).toMatchObject({ title: "TableAccessPermissionChecker", detail: "forbidden: you may not create table world" });
    const row = await api(s, "GET", `/api/note/${notes["carol-2"]}`, undefined, bearer(bob));
    expect(row.status).toBe(403);
    expect(row.body.errors[0]).toMatchObject({ title: "ObjectAccessPermissionChecker", detail: "forbidden: you may not read this note" });
    const run = await action(s, "world/become_an_administrator", {}, bob);
    expect(run.status).toBe(403);
    expect(run.body[0].Attributes.message).toMatch(/^forbidden: /);
  });
});
