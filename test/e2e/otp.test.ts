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
    for (let i = 0; i < 7; i++) statuses.push((await act("user_account/verify_otp", { email, otp: String(100000 + i) }, token)).status);
    expect(statuses.slice(0, 5).every((x) => x === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
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
