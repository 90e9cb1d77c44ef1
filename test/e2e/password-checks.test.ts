// Password checks under a spray of guesses: each guess at another account from another address (so under every
// throttle limit) costs a bcrypt check, and unbounded they queued up behind each other; the owner's signin with
// them (16 guessing connections: 2.9 s).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { api, configure, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
const signin = (email: string, password: string, address: string) =>
  api(s, "POST", "/action/user_account/signin", { attributes: { email, password } }, { "X-Forwarded-For": address });

beforeAll(async () => {
  s = await startServer();
  const r = await api(s, "POST", "/action/user_account/signup", { attributes: { email: "owner@example.com", name: "owner", password: "correct horse", passwordConfirm: "correct horse" } });
  expect(r.status).toBe(200);
  // The test server sits behind "a proxy" on 127.0.0.1: each guess can come from an address of its own.
  await configure(s, { "http.trusted_proxies": JSON.stringify(["127.0.0.1"]) });
});
afterAll(async () => {
  await s.stop();
});

test("while 24 connections spray guesses, the owner's signin is answered within a second: signed in, or a 503 to retry", async () => {
  let stop = false;
  let n = 0;
  const guesses: Record<number, number> = {};
  const spray = Array.from({ length: 24 }, async () => {
    while (!stop) {
      const i = n++;
      const r = await signin(`spray${i}@example.com`, "guess", `10.${(i >> 8) & 255}.${i & 255}.1`);
      guesses[r.status] = (guesses[r.status] ?? 0) + 1;
    }
  });
  await Bun.sleep(500);
  const owner: { status: number; ms: number; retryAfter: string | null }[] = [];
  const end = Date.now() + 4000;
  while (Date.now() < end) {
    const t = performance.now();
    const r = await signin("owner@example.com", "correct horse", "10.255.0.7");
    owner.push({ status: r.status, ms: performance.now() - t, retryAfter: r.headers.get("retry-after") });
    await Bun.sleep(200);
  }
  stop = true;
  await Promise.all(spray);
  // Before: each signin waited for every check queued ahead of it (with 24 connections, some 4 s).
  for (const o of owner) {
    expect(o.ms).toBeLessThan(1500);
    expect([200, 503]).toContain(o.status);
    if (o.status === 503) expect(o.retryAfter).toBe("1");
  }
  expect(owner.some((o) => o.status === 200)).toBe(true);
  // The guesses were checked (401) or turned away without a check (503); none was a 500.
  expect(Object.keys(guesses).every((k) => k === "401" || k === "503")).toBe(true);
  // After the spray the owner signs in at once.
  expect((await signin("owner@example.com", "correct horse", "10.255.0.8")).status).toBe(200);
}, 30_000);
