// An action's outcomes share one transaction: when it rolls back, nothing it read or wrote may linger in what the
// server remembers (list totals counted inside the transaction saw rows that are gone).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
let admin: Record<string, string>;

beforeAll(async () => {
  s = await startServer({ schemas: ["schema_ticket.yaml"] });
  const attributes = { email: "root@example.com", password: "correct horse", passwordConfirm: "correct horse", name: "root" };
  expect((await api(s, "POST", "/action/user_account/signup", { attributes })).status).toBe(200);
  const token = (await api(s, "POST", "/action/user_account/signin", { attributes })).body[0].Attributes.value;
  admin = { Authorization: `Bearer ${token}` };
  expect((await api(s, "POST", "/action/world/become_an_administrator", "{}", admin)).status).toBe(200);
});
afterAll(async () => {
  await s.stop();
});

describe("rolled-back actions", () => {
  test("a list total counted inside a failed action's transaction is not remembered", async () => {
    const list = async () => {
      const r = await api(s, "GET", "/api/ticket?page[size]=5", undefined, admin);
      expect(r.status).toBe(200);
      return { total: r.body.links.total, rows: r.body.data.length };
    };
    expect(await list()).toEqual({ total: 0, rows: 0 });
    // POST a ticket, list tickets (the administrator's view, as outcomes run), then fail: all of it rolls back.
    const failed = await api(s, "POST", "/action/ticket/count_then_fail", { attributes: {} }, admin);
    expect(failed.status).toBeGreaterThanOrEqual(400);
    expect(await list()).toEqual({ total: 0, rows: 0 });
    const created = await api(s, "POST", "/api/ticket", { data: { type: "ticket", attributes: { title: "real" } } }, admin);
    expect(created.status).toBe(201);
    expect(await list()).toEqual({ total: 1, rows: 1 });
  });
});
