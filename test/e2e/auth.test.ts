// Identity and permissions end to end: the seed's curl sequence, lock-down, row visibility, IDOR, tokens, CLI path.
import { Database } from "bun:sqlite";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { decodeJwt, SignJWT } from "jose";
import { api, configure, pingWhile, runCli, startServer, tempDir, type TestServer } from "../helpers/daptin.ts";

const NOTE_SCHEMA = `Tables:
  - TableName: note
    DefaultPermission: {guest: [peek], owner: all, group: [peek, read]}
    Columns:
      - {Name: title, ColumnType: label, DataType: varchar(200)}
`;

const action = (s: TestServer, path: string, attributes: unknown, token?: string) =>
  api(s, "POST", `/action/${path}`, { attributes }, token ? { Authorization: `Bearer ${token}` } : {});

async function signup(s: TestServer, email: string, password = "correct horse") {
  const r = await action(s, "user_account/signup", { email, password, name: email.split("@")[0], passwordConfirm: password });
  expect(r.status).toBe(200);
}
async function signin(s: TestServer, email: string, password = "correct horse"): Promise<string> {
  const r = await action(s, "user_account/signin", { email, password });
  expect(r.status).toBe(200);
  return r.body[0].Attributes.value;
}
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

describe("the seed's flow on a fresh instance", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  test("signup, signin, token claims, guest list of user_account, become admin", async () => {
    const email = "artpar@gmail.com";
    const up = await api(s, "POST", "/action/user_account/signup", JSON.stringify({ attributes: { email, password: email, name: email, passwordConfirm: email } }), {
      "Content-Type": "application/x-www-form-urlencoded", // what `curl --data-raw` sends
    });
    expect(up.status).toBe(200);
    expect(up.headers.get("content-type")).toContain("application/json");
    expect(up.body).toEqual([
      { ResponseType: "client.notify", Attributes: { __type: "client.notify", message: "Sign-up successful. Redirecting to sign in", title: "Success", type: "success" } },
      { ResponseType: "client.redirect", Attributes: { __type: "client.redirect", delay: 2000, location: "/auth/signin", window: "self" } },
    ]);

    const inn = await api(s, "POST", "/action/user_account/signin", { attributes: { email, password: email } });
    expect(inn.status).toBe(200);
    const [store, cookie, note, redirect] = inn.body;
    expect(store.ResponseType).toBe("client.store.set");
    expect(store.Attributes.key).toBe("token");
    const token: string = store.Attributes.value;
    expect(cookie).toEqual({ ResponseType: "client.cookie.set", Attributes: { key: "token", value: `${token}; SameSite=Strict` } });
    expect(note).toEqual({ ResponseType: "client.notify", Attributes: { message: "Logged in", title: "Success", type: "success" } });
    expect(redirect).toEqual({ ResponseType: "client.redirect", Attributes: { delay: 2000, location: "/", window: "self" } });

    const header = JSON.parse(Buffer.from(token.split(".")[0]!, "base64url").toString());
    expect(header.alg).toBe("HS256");
    const claims = decodeJwt(token);
    expect(Object.keys(claims).sort()).toEqual(["auth_version", "email", "exp", "iat", "iss", "jti", "name", "nbf", "sub"]);
    expect(claims.email).toBe(email);
    expect(claims.name).toBe(email);
    expect(claims.iss).toMatch(/^daptin-[0-9a-f]{6}$/);
    expect(claims.exp! - claims.iat!).toBe(72 * 3600);
    expect(claims.nbf).toBe(claims.iat);
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);

    const list = await api(s, "GET", "/api/user_account");
    expect(list.status).toBe(200);
    expect(list.body.links).toEqual({ current_page: 1, from: 0, last_page: 1, per_page: 10, to: 10, total: 1 });
    const u = list.body.data[0];
    expect(u.type).toBe("user_account");
    expect(u.id).toBe(claims.sub);
    expect(u.attributes).toMatchObject({
      __type: "user_account", email, name: email, password: "", permission: 2097151, reference_id: claims.sub, user_account_id: claims.sub, confirmed: false,
    });
    expect(Object.keys(u.attributes)).toEqual(expect.arrayContaining(["created_at", "updated_at"]));

    const admin = await api(s, "POST", "/action/world/become_an_administrator", "{}", bearer(token));
    expect(admin.status).toBe(200);
    expect(admin.body).toEqual([
      { ResponseType: "client.redirect", Attributes: { delay: 7000, location: "/", window: "self" } },
      { ResponseType: "Restart", Attributes: null },
    ]);
    const again = await api(s, "POST", "/action/world/become_an_administrator", "{}", bearer(token));
    expect(again.status).toBe(403);
    expect(again.body[0].ResponseType).toBe("client.notify");
    expect(again.body[0].Attributes.type).toBe("error");

    // Locked down: guests may sign in, nothing else.
    expect((await api(s, "GET", "/api/user_account")).status).toBe(403);
    expect((await api(s, "GET", "/api/world")).status).toBe(403);
    const guestSignup = await action(s, "user_account/signup", { email: "x@example.com", password: "longenough", name: "x", passwordConfirm: "longenough" });
    expect(guestSignup.status).toBe(403);
    expect((await action(s, "user_account/signin", { email, password: email })).status).toBe(200);
    // The admin sees everything, including the bootstrap guest account.
    const all = await api(s, "GET", "/api/user_account", undefined, bearer(token));
    expect(all.status).toBe(200);
    expect(all.body.data.map((x: any) => x.attributes.email).sort()).toEqual(["artpar@gmail.com", "guest@cms.go"]);
    // New rows get 561441 at once (no restart).
    const g = await api(s, "POST", "/api/usergroup", { data: { type: "usergroup", attributes: { name: "editors" } } }, bearer(token));
    expect(g.status).toBe(201);
    expect(g.body.data.attributes.permission).toBe(561441);
  });
});

describe("after lock-down: rows by owner, group and guest bits", () => {
  let s: TestServer;
  let admin: string, bob: string, carol: string;
  let groupId: string;
  const notes: Record<string, string> = {};

  beforeAll(async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "schema_note.yaml"), NOTE_SCHEMA);
    s = await startServer({ dir });
    await signup(s, "admin@example.com");
    admin = await signin(s, "admin@example.com");
    expect((await api(s, "POST", "/action/world/become_an_administrator", "{}", bearer(admin))).status).toBe(200);
    // Signup is closed to guests now; the admin creates the accounts.
    for (const who of ["bob@example.com", "carol@example.com"]) {
      const r = await action(s, "user_account/signup", { email: who, password: "correct horse", name: who, passwordConfirm: "correct horse" }, admin);
      expect(r.status).toBe(200);
    }
    bob = await signin(s, "bob@example.com");
    carol = await signin(s, "carol@example.com");
    // The admin opens `note` to signed-in users: create, read, update, delete through the users group.
    const world = await api(s, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: "note" }]))}`, undefined, bearer(admin));
    const worldId = world.body.data[0].id;
    const grants = await api(s, "GET", `/api/world_world_id_has_usergroup_usergroup_id?world_id=${worldId}`, undefined, bearer(admin));
    expect(grants.body.data.length).toBe(1);
    const open = await api(s, "PATCH", `/api/world_world_id_has_usergroup_usergroup_id/${grants.body.data[0].id}`, {
      data: { type: "world_world_id_has_usergroup_usergroup_id", attributes: { permission: 16384 + 32768 + 65536 + 131072 + 262144 + 524288 } },
    }, bearer(admin));
    expect(open.status).toBe(200);

    for (const [key, token] of [["admin-private", admin], ["admin-shared", admin], ["bob", bob], ["carol", carol]] as const) {
      const r = await api(s, "POST", "/api/note", { data: { type: "note", attributes: { title: key } } }, bearer(token));
      expect(r.status).toBe(201);
      notes[key] = r.body.data.id;
    }
    // A group with bob in it; the admin shares one note with it.
    groupId = (await api(s, "POST", "/api/usergroup", { data: { type: "usergroup", attributes: { name: "team" } } }, bearer(admin))).body.data.id;
    const bobRef = decodeJwt(bob).sub!;
    const member = await api(s, "POST", "/api/user_account_user_account_id_has_usergroup_usergroup_id", {
      data: { type: "user_account_user_account_id_has_usergroup_usergroup_id", attributes: { user_account_id: bobRef, usergroup_id: groupId } },
    }, bearer(admin));
    expect(member.status).toBe(201);
    const share = await api(s, "POST", "/api/note_note_id_has_usergroup_usergroup_id", {
      data: { type: "note_note_id_has_usergroup_usergroup_id", attributes: { note_id: notes["admin-shared"], usergroup_id: groupId } },
    }, bearer(admin));
    expect(share.status).toBe(201);
  });
  afterAll(async () => {
    await s.stop();
  });

  const titles = async (token?: string) => {
    const r = await api(s, "GET", "/api/note?sort=title", undefined, token ? bearer(token) : {});
    expect(r.status).toBe(200);
    return { titles: r.body.data.map((n: any) => n.attributes.title), total: r.body.links.total };
  };

  test("each caller sees exactly the rows the bits allow, and totals count only those", async () => {
    expect(await titles(admin)).toEqual({ titles: ["admin-private", "admin-shared", "bob", "carol"], total: 4 });
    expect(await titles(bob)).toEqual({ titles: ["admin-shared", "bob"], total: 2 });
    expect(await titles(carol)).toEqual({ titles: ["carol"], total: 1 });
    expect((await api(s, "GET", "/api/note")).status).toBe(403);
  });

  test("a row read by id follows the same rules", async () => {
    expect((await api(s, "GET", `/api/note/${notes["admin-shared"]}`, undefined, bearer(bob))).status).toBe(200);
    expect((await api(s, "GET", `/api/note/${notes["admin-private"]}`, undefined, bearer(bob))).status).toBe(403);
    expect((await api(s, "GET", `/api/note/${notes.carol}`, undefined, bearer(bob))).status).toBe(403);
  });

  test("users do not see each other's accounts or emails", async () => {
    const r = await api(s, "GET", "/api/user_account", undefined, bearer(bob));
    expect(r.status).toBe(200);
    expect(r.body.data.map((u: any) => u.attributes.email)).toEqual(["bob@example.com"]);
    expect(r.text).not.toContain("carol@example.com");
  });

  test("IDOR: PATCH and DELETE of another user's row by id are denied and change nothing", async () => {
    const before = await api(s, "GET", `/api/note/${notes.carol}`, undefined, bearer(carol));
    for (const [method, body] of [["PATCH", { data: { type: "note", attributes: { title: "pwned" } } }], ["DELETE", undefined]] as const) {
      const r = await api(s, method, `/api/note/${notes.carol}`, body, bearer(bob));
      expect(r.status).toBe(403);
      expect(r.body.errors[0].status).toBe("403");
    }
    // Shared read does not mean shared write.
    expect((await api(s, "PATCH", `/api/note/${notes["admin-shared"]}`, { data: { type: "note", attributes: { title: "x" } } }, bearer(bob))).status).toBe(403);
    const after = await api(s, "GET", `/api/note/${notes.carol}`, undefined, bearer(carol));
    expect(after.body).toEqual(before.body);
    // Owners may change their own rows (DefaultPermission owner: all).
    const own = await api(s, "PATCH", `/api/note/${notes.bob}`, { data: { type: "note", attributes: { title: "bob2" } } }, bearer(bob));
    expect(own.status).toBe(200);
    await api(s, "PATCH", `/api/note/${notes.bob}`, { data: { type: "note", attributes: { title: "bob" } } }, bearer(bob));
  });

  test("a table-level grant changed through a relationship route applies at once", async () => {
    const world = await api(s, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: "note" }]))}`, undefined, bearer(admin));
    const users = (await api(s, "GET", `/api/usergroup?query=${encodeURIComponent(JSON.stringify([{ column: "name", operator: "is", value: "users" }]))}`, undefined, bearer(admin))).body.data[0].id;
    const rel = `/api/world/${world.body.data[0].id}/relationships/usergroup_id`;
    const grant = (permission: number) => api(s, "POST", rel, { data: [{ type: "usergroup", id: users, attributes: { permission } }] }, bearer(admin));
    expect((await grant(16384 + 524288)).status).toBe(204); // peek + execute only: no create
    expect((await api(s, "POST", "/api/note", { data: { type: "note", attributes: { title: "x" } } }, bearer(carol))).status).toBe(403);
    expect((await grant(16384 + 32768 + 65536 + 131072 + 262144 + 524288)).status).toBe(204);
    const r = await api(s, "POST", "/api/note", { data: { type: "note", attributes: { title: "carol again" } } }, bearer(carol));
    expect(r.status).toBe(201);
    await api(s, "DELETE", `/api/note/${r.body.data.id}`, undefined, bearer(admin));
  });

  test("membership changes apply at the next request, made from either side (identities are cached per user)", async () => {
    const carolRef = decodeJwt(carol).sub!;
    const read = () => api(s, "GET", `/api/note/${notes["admin-shared"]}`, undefined, bearer(carol));
    expect((await read()).status).toBe(403); // also puts carol's identity in the cache
    const link = await api(s, "POST", `/api/user_account/${carolRef}/relationships/usergroup_id`, { data: [{ type: "usergroup", id: groupId }] }, bearer(admin));
    expect(link.status).toBe(204);
    expect((await read()).status).toBe(200);
    expect(await titles(carol)).toEqual({ titles: ["admin-shared", "carol"], total: 2 });
    const rows = await api(s, "GET", `/api/user_account_user_account_id_has_usergroup_usergroup_id?user_account_id=${carolRef}&usergroup_id=${groupId}`, undefined, bearer(admin));
    expect(rows.body.data.length).toBe(1);
    expect((await api(s, "DELETE", `/api/user_account_user_account_id_has_usergroup_usergroup_id/${rows.body.data[0].id}`, undefined, bearer(admin))).status).toBe(200);
    expect((await read()).status).toBe(403);
    expect(await titles(carol)).toEqual({ titles: ["carol"], total: 1 });
  });

  test("a user cannot make themselves administrator or touch the world table", async () => {
    expect((await api(s, "POST", "/action/world/become_an_administrator", "{}", bearer(bob))).status).toBe(403);
    const join = await api(s, "POST", "/api/user_account_user_account_id_has_usergroup_usergroup_id", {
      data: { type: "user_account_user_account_id_has_usergroup_usergroup_id", attributes: { user_account_id: decodeJwt(bob).sub, usergroup_id: groupId } },
    }, bearer(bob));
    expect(join.status).toBe(403);
  });
});

describe("tokens", () => {
  let s: TestServer;
  let token: string;
  let secret: string;
  let issuer: string;
  beforeAll(async () => {
    s = await startServer();
    await signup(s, "tok@example.com");
    token = await signin(s, "tok@example.com");
    // The test reads the instance secret from the database file to forge tokens; the API never returns it.
    const db = new Database(s.db, { readonly: true });
    const get = (name: string) => (db.query("SELECT value FROM _config WHERE name = ?").get(name) as { value: string }).value;
    secret = get("jwt.secret");
    issuer = get("jwt.token.issuer");
    db.close();
  });
  afterAll(async () => {
    await s.stop();
  });

  const forge = (claims: Record<string, unknown>, opts: { key?: string; iss?: string; exp?: number } = {}) => {
    const now = Math.floor(Date.now() / 1000);
    const c = decodeJwt(token);
    return new SignJWT({ email: c.email, name: c.name, auth_version: 1, ...claims })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(c.sub!)
      .setIssuer(opts.iss ?? issuer)
      .setIssuedAt(now - 100)
      .setExpirationTime(opts.exp ?? now + 3600)
      .sign(new TextEncoder().encode(opts.key ?? secret));
  };

  test("accepted from the Authorization header, ?token= and the token cookie", async () => {
    expect((await api(s, "GET", "/api/note_missing", undefined, bearer(token))).status).toBe(404);
    expect((await api(s, "GET", "/api/user_account", undefined, bearer(token))).status).toBe(200);
    expect((await api(s, "GET", `/api/user_account?token=${token}`)).status).toBe(200);
    expect((await api(s, "GET", "/api/user_account", undefined, { Cookie: `token=${token}` })).status).toBe(200);
    expect((await api(s, "GET", "/api/user_account", undefined, { Cookie: `token=${token}; SameSite=Strict` })).status).toBe(200);
    // A client that URL-encodes the whole `client.cookie.set` value, suffix and all.
    expect((await api(s, "GET", "/api/user_account", undefined, { Cookie: `token=${encodeURIComponent(`${token}; SameSite=Strict`)}` })).status).toBe(200);
    expect((await api(s, "GET", "/api/user_account", undefined, { Cookie: `other=1; token=${encodeURIComponent(token)}%3BSameSite%3DStrict; x=2` })).status).toBe(200);
  });

  test("tampered, expired, wrong-issuer, wrongly signed and malformed tokens are 401s that say why; guest actions treat them as no token", async () => {
    const [h, p, sig] = token.split(".");
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, email: "admin@example.com" })).toString("base64url")}.${sig}`;
    const cases: [string, string, RegExp][] = [
      ["tampered", tampered, /signature/],
      ["expired", await forge({}, { exp: Math.floor(Date.now() / 1000) - 10 }), /expired/],
      ["wrong issuer", await forge({}, { iss: "daptin-000000" }), /another instance/],
      ["wrong key", await forge({}, { key: "not-the-secret-at-all-not-the-secret" }), /signature/],
      ["malformed", "abc.def", /malformed/],
    ];
    for (const [name, t, why] of cases) {
      const r = await api(s, "GET", "/api/user_account", undefined, bearer(t));
      expect(`${name} ${r.status}`).toBe(`${name} 401`);
      expect(r.body.errors[0].detail).toMatch(why);
      // An action guests may run: the unusable token means a guest, so a client holding it can sign in again.
      const a = await action(s, "user_account/signin", { email: "tok@example.com", password: "correct horse" }, t);
      expect(`${name} signin ${a.status}`).toBe(`${name} signin 200`);
      expect(a.body[0].ResponseType).toBe("client.store.set");
      // Everywhere else the 401 stays: export_data is for administrators only.
      const e = await action(s, "world/export_data", { table_name: "user_account" }, t);
      expect(`${name} export ${e.status}`).toBe(`${name} export 401`);
      expect(e.body[0].Attributes.message).toMatch(why);
    }
    expect((await api(s, "GET", "/api/user_account", undefined, { Authorization: "Basic dXNlcjpwYXNz" })).status).toBe(401);
  });

  test("a token must expire, and may not be issued or valid in the future", async () => {
    const now = Math.floor(Date.now() / 1000);
    const c = decodeJwt(token);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT({ email: c.email, name: c.name, auth_version: 1, sub: c.sub, iss: issuer, ...claims })
        .setProtectedHeader({ alg: "HS256" })
        .sign(new TextEncoder().encode(secret));
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ["no exp", { iat: now - 10, nbf: now - 10 }, /no exp claim/],
      ["no exp, no iat", {}, /no exp claim/],
      ["iat in the future", { iat: now + 3600, nbf: now - 10, exp: now + 7200 }, /issued in the future/],
      ["nbf in the future", { iat: now - 10, nbf: now + 3600, exp: now + 7200 }, /not valid yet/],
      ["exp not a number", { iat: now - 10, exp: "tomorrow" }, /exp claim is not valid/],
    ];
    for (const [name, claims, why] of cases) {
      const r = await api(s, "GET", "/api/user_account", undefined, bearer(await sign(claims)));
      expect(`${name} ${r.status}`).toBe(`${name} 401`);
      expect(r.body.errors[0].detail).toMatch(why);
    }
    // A little clock difference between machines is tolerated; the same token shape with exp is accepted.
    expect((await api(s, "GET", "/api/user_account", undefined, bearer(await sign({ iat: now + 20, nbf: now + 20, exp: now + 3600 })))).status).toBe(200);
  });

  test("a password change makes older tokens stale (401); a new signin works", async () => {
    const me = decodeJwt(token).sub!;
    const change = await api(s, "PATCH", `/api/user_account/${me}`, { data: { type: "user_account", attributes: { password: "another horse" } } }, bearer(token));
    expect(change.status).toBe(200);
    expect(change.body.data.attributes.password).toBe("");
    const stale = await api(s, "GET", "/api/user_account", undefined, bearer(token));
    expect(stale.status).toBe(401);
    expect(stale.body.errors[0].detail).toContain("stale");
    expect((await action(s, "user_account/signin", { email: "tok@example.com", password: "correct horse" })).status).toBe(401);
    // The client still holding the stale token is not stuck: signin with it runs as a guest.
    const again = await action(s, "user_account/signin", { email: "tok@example.com", password: "another horse" }, token);
    expect(again.status).toBe(200);
    const fresh = await signin(s, "tok@example.com", "another horse");
    expect((await api(s, "GET", "/api/user_account", undefined, bearer(fresh))).status).toBe(200);
  });

  test("signup validation and signin failures are client.notify errors with 4xx and write nothing", async () => {
    const cases: [Record<string, unknown>, number][] = [
      [{ email: "not-an-email", password: "longenough", name: "a", passwordConfirm: "longenough" }, 422],
      [{ email: "a@example.com", password: "short", name: "a", passwordConfirm: "short" }, 422],
      [{ email: "a@example.com", password: "longenough", name: "a", passwordConfirm: "different" }, 422],
      [{ email: "a@example.com", password: "longenough", name: "", passwordConfirm: "longenough" }, 422],
      [{ email: "TOK@example.com", password: "longenough", name: "dup", passwordConfirm: "longenough" }, 409],
    ];
    for (const [attrs, status] of cases) {
      const r = await action(s, "user_account/signup", attrs);
      expect(`${JSON.stringify(attrs)} ${r.status}`).toBe(`${JSON.stringify(attrs)} ${status}`);
      expect(r.body).toHaveLength(1);
      expect(r.body[0]).toMatchObject({ ResponseType: "client.notify", Attributes: { title: "failed", type: "error" } });
    }
    const unknown = await action(s, "user_account/signin", { email: "nobody@example.com", password: "whatever1" });
    const wrong = await action(s, "user_account/signin", { email: "tok@example.com", password: "whatever1" });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    const list = await api(s, "GET", "/api/user_account?page[size]=100");
    expect(list.body.data.map((u: any) => u.attributes.email)).toEqual(["tok@example.com"]);
    expect((await action(s, "user_account/nope", {})).status).toBe(404);
  });
});

describe("clients that send a placeholder for a missing token", () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(async () => {
    await s.stop();
  });

  test("Bearer null, Bearer undefined and an empty bearer mean no token (daptin-client sends them before signin)", async () => {
    for (const header of ["Bearer null", "Bearer undefined", "Bearer ", "Bearer"]) {
      const list = await api(s, "GET", "/api/user_account", undefined, { Authorization: header });
      expect(`${header} ${list.status}`).toBe(`${header} 200`);
      // daptin-client's request shape: axios POST with a JSON body and the header built as "Bearer " + getToken().
      const email = `client-${header.length}@example.com`;
      const up = await api(s, "POST", "/action/user_account/signup", { attributes: { name: "c", email, password: "correct horse", passwordConfirm: "correct horse" } }, {
        Authorization: header, "Content-Type": "application/json;charset=utf-8", Accept: "application/json, text/plain, */*",
      });
      expect(`${header} signup ${up.status}`).toBe(`${header} signup 200`);
      const inn = await api(s, "POST", "/action/user_account/signin", { attributes: { email, password: "correct horse" } }, { Authorization: header });
      expect(`${header} signin ${inn.status}`).toBe(`${header} signin 200`);
    }
    expect((await api(s, "GET", "/api/user_account?token=null")).status).toBe(200);
    expect((await api(s, "GET", "/api/user_account", undefined, { Cookie: "token=undefined" })).status).toBe(200);
  });
});

describe("the CLI provisioning path", () => {
  test("user signup + become-admin on the database gives the same state as HTTP, and a running server sees it", async () => {
    const s = await startServer();
    const db = s.db;
    const up = await runCli(["user", "signup", "--email", "ops@example.com", "--password", "correct horse", "--db", db, "--json"]);
    expect(up.code).toBe(0);
    expect(JSON.parse(up.stdout).email).toBe("ops@example.com");
    const tok = await runCli(["user", "signin", "--email", "ops@example.com", "--password", "correct horse", "--db", db]);
    expect(tok.code).toBe(0);
    const token = tok.stdout.trim();
    // The running server accepts a token made by the CLI (same secret, same database).
    expect((await api(s, "GET", "/api/user_account", undefined, bearer(token))).status).toBe(200);
    expect((await runCli(["become-admin", "--email", "ops@example.com", "--db", db])).code).toBe(0);
    // No restart: the server is locked down at once.
    expect((await api(s, "GET", "/api/user_account")).status).toBe(403);
    const mine = await api(s, "GET", "/api/user_account", undefined, bearer(token));
    expect(mine.body.data.length).toBe(2); // the admin sees the bootstrap guest too
    // Already the administrator: "already done" (exit 3), nothing changes.
    expect((await runCli(["become-admin", "--email", "ops@example.com", "--db", db])).code).toBe(3);
    const explain = await runCli(["permission", "explain", "--table", "user_account", "--db", db, "--json"]);
    expect(explain.code).toBe(0);
    expect(JSON.parse(explain.stdout).verdicts.peek.allowed).toBe(false);
    expect(JSON.parse(explain.stdout).verdicts.execute.allowed).toBe(true);
    // Re-opening signup to guests is one readable command, no magic number.
    const guestSignup = () => action(s, "user_account/signup", { email: "new@example.com", password: "correct horse", name: "n", passwordConfirm: "correct horse" });
    expect((await guestSignup()).status).toBe(403);
    const open = await runCli(["permission", "set", "--table", "user_account", "--action", "signup", "guest:execute owner:all group:all", "--db", db, "--json"]);
    expect(open.code).toBe(0);
    expect(JSON.parse(open.stdout).permission).toBe(32 + 127 * 128 + 127 * 16384);
    expect((await guestSignup()).status).toBe(200);
    // The same symbolic form works over HTTP for the admin.
    const signin = await api(s, "GET", `/api/action?query=${encodeURIComponent(JSON.stringify([{ column: "action_name", operator: "is", value: "signin" }]))}`, undefined, bearer(token));
    const patched = await api(s, "PATCH", `/api/action/${signin.body.data[0].id}`, { data: { type: "action", attributes: { permission: { guest: ["peek", "execute"], owner: "all" } } } }, bearer(token));
    expect(patched.status).toBe(200);
    expect(patched.body.data.attributes.permission).toBe(33 + 127 * 128);
    expect((await runCli(["permission", "set", "--table", "user_account", "--action", "signup", "guest:fly", "--db", db])).code).toBe(2);
    await s.stop();
  });
});

describe("throttling of signin, codes and signup", () => {
  let s: TestServer;
  const from = (address: string) => ({ "X-Forwarded-For": address });
  const signinFrom = (address: string, email: string, password: string) =>
    api(s, "POST", "/action/user_account/signin", { attributes: { email, password } }, from(address));

  beforeAll(async () => {
    s = await startServer();
    for (const who of ["ann@example.com", "bea@example.com"]) await signup(s, who);
    // Short windows so the test can outwait them; the test server sits behind "a proxy" on 127.0.0.1.
    await configure(s, {
      "auth.throttle": JSON.stringify({ per_account: 5, per_address: 10, window_seconds: 2, max_lockout_seconds: 4 }),
      "http.trusted_proxies": JSON.stringify(["127.0.0.1"]),
    });
  });
  afterAll(async () => {
    await s.stop();
  });

  test("200 guesses at one account are refused with 429 before bcrypt; other accounts sign in fast; the owner gets in after the window", async () => {
    const statuses: number[] = [];
    let lastRefusal: Awaited<ReturnType<typeof api>> | undefined;
    const attack = (async () => {
      for (let batch = 0; batch < 10; batch++) {
        const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => signinFrom("10.0.0.66", "ann@example.com", `guess-${batch}-${i}`)));
        for (const r of rs) {
          statuses.push(r.status);
          if (r.status === 429) lastRefusal = r;
        }
      }
    })();
    // While the attack runs (its first guesses checked, the rest refused), another user on another address signs in.
    while (statuses.length < 20) await Bun.sleep(5);
    const started = performance.now();
    const bea = await signinFrom("10.0.0.7", "bea@example.com", "correct horse");
    const took = performance.now() - started;
    await attack;
    expect(bea.status).toBe(200);
    expect(took).toBeLessThan(1000);
    // A handful of real guesses (5 per window of 2-4 s), everything else refused without checking the password
    // (429; or 503 for a guess that waited too long for its turn in the line of password checks).
    expect(statuses.length).toBe(200);
    expect(statuses.filter((x) => x === 401).length).toBeLessThanOrEqual(15);
    expect(statuses.filter((x) => x === 429).length).toBeGreaterThanOrEqual(180);
    expect(statuses.every((x) => x === 401 || x === 429 || x === 503)).toBe(true);
    expect(Number(lastRefusal!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(lastRefusal!.body).toEqual([{ ResponseType: "client.notify", Attributes: expect.objectContaining({ title: "failed", type: "error", message: expect.stringContaining("too many sign-in attempts") }) }]);
    // While locked, even the right password waits (the lock is per account, whoever asks).
    const early = await signinFrom("10.0.0.8", "ann@example.com", "correct horse");
    expect(early.status).toBe(429);
    await Bun.sleep(Number(early.headers.get("retry-after")) * 1000 + 100);
    const owner = await signinFrom("10.0.0.8", "ann@example.com", "correct horse");
    expect(owner.status).toBe(200);
    expect(owner.body[0].ResponseType).toBe("client.store.set");
  }, 20_000);

  test("one address guessing at many accounts is refused for all of them; other addresses are not", async () => {
    // Concurrent: every guess is counted as it arrives, before any password check finishes.
    const statuses = (await Promise.all(Array.from({ length: 12 }, (_, i) => signinFrom("10.0.0.99", `nobody${i}@example.com`, "whatever1")))).map((r) => r.status);
    // Ten admitted: checked (401), or turned away unchecked by the line of password checks (503, withdrawn).
    expect(statuses.filter((x) => x === 429).length).toBe(2);
    expect(statuses.filter((x) => x === 401 || x === 503).length).toBe(10);
    expect(statuses.filter((x) => x === 401).length).toBeGreaterThanOrEqual(2);
    expect((await signinFrom("10.0.0.98", "nobody0@example.com", "whatever1")).status).toBe(401);
    expect((await signinFrom("10.0.0.98", "bea@example.com", "correct horse")).status).toBe(200);
  }, 20_000);

  test("password-reset codes: mailed at most 5 times per window per account, the same answer for unknown addresses", async () => {
    const reset = (email: string, address: string) => api(s, "POST", "/action/user_account/reset-password", { attributes: { email } }, from(address));
    const known = [];
    const unknown = [];
    for (let i = 0; i < 6; i++) known.push((await reset("bea@example.com", "10.0.1.1")).status);
    for (let i = 0; i < 6; i++) unknown.push((await reset("nobody@example.com", "10.0.1.2")).status);
    expect(known).toEqual([200, 200, 200, 200, 200, 429]);
    expect(unknown).toEqual(known);
    expect(s.log().split("\n").filter((l) => l.includes("MAIL to=bea@example.com")).length).toBe(5);
  });

  test("X-Forwarded-For is ignored unless the peer is a trusted proxy", async () => {
    await configure(s, { "http.trusted_proxies": "[]" });
    // Every "address" below is really 127.0.0.1: the per-address limit (10) applies to all of them together.
    const statuses = (await Promise.all(Array.from({ length: 12 }, (_, i) => signinFrom(`10.9.${i}.1`, `spray${i}@example.com`, "whatever1")))).map((r) => r.status);
    expect(statuses.filter((x) => x === 429).length).toBe(2);
    await configure(s, { "http.trusted_proxies": JSON.stringify(["127.0.0.1"]) });
  }, 20_000);
});

describe("Daptin's per-path limit (limit.rate)", () => {
  test("a path listed in limit.rate answers 429 with Retry-After past its rate per second; other paths are not limited", async () => {
    const s = await startServer();
    await configure(s, { "limit.rate": JSON.stringify({ version: "1", limits: { "/api/world": 3 } }) });
    const rs = await Promise.all(Array.from({ length: 10 }, () => api(s, "GET", "/api/world")));
    const refused = rs.filter((r) => r.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(4);
    expect(refused[0]!.headers.get("retry-after")).toBe("1");
    expect(refused[0]!.body).toEqual({ errors: [{ status: "429", title: "Rate limit exceeded", detail: "Too many requests. Please retry after the current one-second window." }] });
    const ok = rs.find((r) => r.status === 200)!;
    expect(ok.headers.get("x-ratelimit-limit")).toBe("3");
    expect(Number(ok.headers.get("x-ratelimit-reset"))).toBeGreaterThan(Date.now() / 1000 - 2);
    const other = await Promise.all(Array.from({ length: 10 }, () => api(s, "GET", "/api/usergroup")));
    expect(other.every((r) => r.status === 200 && r.headers.get("x-ratelimit-limit") === null)).toBe(true);
    await s.stop();
  });

  test("the limit is keyed on the route: a trailing / or percent-encoding in the request or in the setting reaches the same path", async () => {
    const s = await startServer();
    // Listed path -> a request path that reaches the same route (one route each: they are counted apart).
    const routes = {
      "/api/world": "/api/world/",
      "/api/user_account": "/api/%75ser_account",
      "/api/usergroup/": "/api/usergroup",
      "/action/world/%64ownload_system_schema": "/action/%77orld/download_system_schema/",
    };
    await configure(s, { "limit.rate": JSON.stringify({ version: "1", limits: Object.fromEntries(Object.keys(routes).map((k) => [k, 3])) }) });
    // Before: only the path exactly as listed was counted, so each of these passed ten times out of ten.
    for (const path of Object.values(routes)) {
      const rs = await Promise.all(Array.from({ length: 10 }, () => api(s, "GET", path)));
      // Ten requests within at most two one-second windows: at least four over a limit of 3.
      expect(`${path}: ${rs.filter((r) => r.status === 429).length >= 4}`).toBe(`${path}: true`);
      expect(rs.find((r) => r.status !== 429)!.headers.get("x-ratelimit-limit")).toBe("3");
    }
    await s.stop();
  });
});

describe("password hashing off the event loop", () => {
  test("20 concurrent signups leave /ping answering (bcrypt runs on worker threads, outside any transaction)", async () => {
    const s = await startServer();
    const { result: ups, worst } = await pingWhile(s, () => Promise.all(Array.from({ length: 20 }, (_, i) => action(s, "user_account/signup", {
      email: `load${i}@example.com`, name: `load${i}`, password: "correct horse", passwordConfirm: "correct horse",
    }))));
    expect(ups.map((r) => r.status)).toEqual(Array(20).fill(200));
    // Synchronous hashing inside the action's transaction held /ping for 2.4 s; the target is under 100 ms
    // (bench/), the bound here is wide for a busy machine.
    expect(worst).toBeLessThan(1000);
    expect((await action(s, "user_account/signin", { email: "load7@example.com", password: "correct horse" })).status).toBe(200);
    await s.stop();
  }, 30_000);
});
