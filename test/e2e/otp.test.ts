// One-time passwords and password reset: codes go through the mail sender (the server log without SMTP).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { decodeJwt } from "jose";
import { api, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
let token: string;
let me: string;
const email = "ann@example.com";
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const act = (path: string, attributes: Record<string, unknown>, t?: string) => api(s, "POST", `/action/${path}`, { attributes }, t ? bearer(t) : {});

/** The last code mailed to `to`, read from the server log. */
async function lastCode(to: string): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const lines = s.log().split("\n").filter((l) => l.includes(`MAIL to=${to}`));
    const m = lines.length ? /code is: (\d{6})/.exec(lines.at(-1)!) : null;
    if (m) return m[1]!;
    await Bun.sleep(20);
  }
  throw new Error(`no code mailed to ${to}`);
}
const mails = (to: string) => s.log().split("\n").filter((l) => l.includes(`MAIL to=${to}`)).length;

beforeAll(async () => {
  s = await startServer();
  await act("user_account/signup", { email, name: "Ann", password: "correct horse", passwordConfirm: "correct horse" });
  token = (await act("user_account/signin", { email, password: "correct horse" })).body[0].Attributes.value;
  me = decodeJwt(token).sub!;
});
afterAll(async () => {
  await s.stop();
});

describe("one-time passwords", () => {
  test("enrol, confirm, then sign in with a code; codes never appear in responses", async () => {
    const reg = await act("user_account/register_otp", { user_account_id: me, mobile_number: "+15550001" }, token);
    expect(reg.status).toBe(200);
    expect(reg.body).toEqual([]);
    const code = await lastCode(email);
    expect(reg.text).not.toContain(code);
    expect((await act("user_otp_account/verify_mobile_number", { email, otp: "000000" }, token)).status).toBe(401);
    const ok = await act("user_otp_account/verify_mobile_number", { email, otp: code }, token);
    expect(ok.status).toBe(200);
    // The same code cannot be used twice for the same purpose.
    expect((await act("user_otp_account/verify_mobile_number", { email, otp: code }, token)).status).toBe(409);
    expect((await act("user_otp_account/send_otp", { email }, token)).status).toBe(200);
    const login = await act("user_account/verify_otp", { email, otp: await lastCode(email) }, token);
    expect(login.status).toBe(200);
    expect(login.body[0].ResponseType).toBe("client.store.set");
    expect(decodeJwt(login.body[0].Attributes.value).sub).toBe(me);
    // Guests cannot use the signed-in-only OTP actions.
    expect((await act("user_account/verify_otp", { email, otp: code })).status).toBe(403);
    // The secret is never shown.
    const accounts = await api(s, "GET", "/api/user_otp_account", undefined, bearer(token));
    expect(accounts.body.data[0].attributes).not.toHaveProperty("otp_secret");
  });

  test("too many wrong codes are refused for a while (429)", async () => {
    const statuses: number[] = [];
    let last: Awaited<ReturnType<typeof act>> | undefined;
    for (let i = 0; i < 7; i++) {
      last = await act("user_account/verify_otp", { email, otp: String(100000 + i) }, token);
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 5).every((x) => x === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(last!.body[0].Attributes.message).toContain("too many one-time-password attempts");
  });
});

describe("password reset", () => {
  test("a mailed code sets a new password; old tokens go stale; unknown addresses get the same answer", async () => {
    const bob = "bob@example.com";
    await act("user_account/signup", { email: bob, name: "Bob", password: "correct horse", passwordConfirm: "correct horse" });
    const bobToken = (await act("user_account/signin", { email: bob, password: "correct horse" })).body[0].Attributes.value;
    const unknown = await act("user_account/reset-password", { email: "nobody@example.com" });
    const known = await act("user_account/reset-password", { email: "BOB@example.com" });
    expect(unknown.status).toBe(200);
    expect(known.body).toEqual(unknown.body);
    expect(mails("nobody@example.com")).toBe(0);
    const code = await lastCode(bob);
    expect((await act("user_account/reset-password-verify", { email: bob, otp: "999999", password: "new horse battery" })).status).toBe(401);
    const done = await act("user_account/reset-password-verify", { email: bob, otp: code, password: "new horse battery" });
    expect(done.status).toBe(200);
    expect((await act("user_account/signin", { email: bob, password: "new horse battery" })).status).toBe(200);
    expect((await act("user_account/signin", { email: bob, password: "correct horse" })).status).toBe(401);
    expect((await api(s, "GET", "/api/user_account", undefined, bearer(bobToken))).status).toBe(401);
  });
});

describe("after lock-down", () => {
  let locked: TestServer;
  let admin: string, bob: string, adminRef: string, bobRef: string;
  const run = (path: string, attributes: Record<string, unknown>, t?: string) =>
    api(locked, "POST", `/action/${path}`, { attributes }, t ? bearer(t) : {});
  const signinAs = async (who: string) => (await run("user_account/signin", { email: who, password: "correct horse" })).body[0].Attributes.value as string;

  beforeAll(async () => {
    locked = await startServer();
    await run("user_account/signup", { email: "admin@example.com", name: "Admin", password: "correct horse", passwordConfirm: "correct horse" });
    admin = await signinAs("admin@example.com");
    expect((await run("world/become_an_administrator", {}, admin)).status).toBe(200);
    expect((await run("user_account/signup", { email: "bob@example.com", name: "Bob", password: "correct horse", passwordConfirm: "correct horse" }, admin)).status).toBe(200);
    bob = await signinAs("bob@example.com");
    adminRef = decodeJwt(admin).sub!;
    bobRef = decodeJwt(bob).sub!;
  });
  afterAll(async () => {
    await locked.stop();
  });

  test("a signed-in user enrols their own account (Daptin allows it); not another's, not as a guest", async () => {
    const own = await run("user_account/register_otp", { user_account_id: bobRef }, bob);
    expect(own.status).toBe(200);
    expect(own.body).toEqual([]);
    expect(locked.log()).toContain("MAIL to=bob@example.com");
    const other = await run("user_account/register_otp", { user_account_id: adminRef }, bob);
    expect(other.status).toBe(403);
    expect((await run("user_account/register_otp", { user_account_id: bobRef })).status).toBe(403);
  });

  test("an action on a subject row that does not exist is a 404 (after the gates: guests still get 403)", async () => {
    const missing = "019a0c1e-5b7a-7c21-9d0e-3f2a1b4c5d6e";
    const r = await run("user_account/register_otp", { user_account_id: missing }, bob);
    expect(r.status).toBe(404);
    expect(r.body[0].Attributes.message).toContain(missing);
    expect((await run("user_account/register_otp", { user_account_id: missing })).status).toBe(403);
  });
});
