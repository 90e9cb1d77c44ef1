// Spec 40 section 7's worked examples, run as written, with the documented responses.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { api, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
let token: string;
const bearer = () => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  s = await startServer({ schemas: ["schema_helpdesk.yaml"] });
  await api(s, "POST", "/action/user_account/signup", { attributes: { email: "ann@example.com", name: "Ann", password: "correct horse", passwordConfirm: "correct horse" } });
  token = (await api(s, "POST", "/action/user_account/signin", { attributes: { email: "ann@example.com", password: "correct horse" } })).body[0].Attributes.value;
});
afterAll(async () => {
  await s.stop();
});

const tickets = async () => (await api(s, "GET", "/api/ticket?page[size]=100")).body.data.map((d: any) => d.attributes);

test("7.1 open_ticket: the created row, then the notification naming it and its author", async () => {
  const r = await api(s, "POST", "/action/user_account/open_ticket", { attributes: { title: "  Printer on fire " } }, bearer());
  expect(r.status).toBe(200);
  expect(r.body).toHaveLength(2);
  const [row, note] = r.body;
  expect(row.ResponseType).toBe("ticket");
  expect(row.Attributes).toMatchObject({ __type: "ticket", title: "Printer on fire", priority: "normal" });
  expect(note).toEqual({
    ResponseType: "client.notify",
    Attributes: { __type: "client.notify", type: "success", title: "Ticket created", message: `Ticket ${row.Attributes.reference_id} opened by ann@example.com` },
  });
  // As a guest `$user.email` cannot be evaluated: an error, and the ticket insert is rolled back.
  const before = (await tickets()).length;
  const guest = await api(s, "POST", "/action/user_account/open_ticket", { attributes: { title: "Guest ticket" } });
  expect(guest.status).toBeGreaterThanOrEqual(400);
  expect(guest.body[0].Attributes.message).toContain("user");
  expect((await tickets()).length).toBe(before);
  // Validation before conformation: "ab" is too short.
  const short = await api(s, "POST", "/action/user_account/open_ticket", { attributes: { title: "ab" } }, bearer());
  expect(short.status).toBe(422);
  expect(short.body[0].Attributes.message).toContain("title");
});

test("7.2 escalate: conditions and chained references, with and without a reason", async () => {
  const [t] = (await tickets()).filter((x: any) => x.title === "Printer on fire");
  const withReason = await api(s, "POST", "/action/ticket/escalate", { attributes: { ticket_id: t.reference_id, reason: "VIP customer" } }, bearer());
  expect(withReason.status).toBe(200);
  expect(withReason.body).toEqual([
    { ResponseType: "client.notify", Attributes: { __type: "client.notify", type: "success", title: "Escalated", message: "Ticket 'Printer on fire' is now urgent" } },
  ]);
  const notes = (await api(s, "GET", "/api/ticket_note")).body.data.map((d: any) => d.attributes);
  expect(notes).toHaveLength(1);
  expect(notes[0]).toMatchObject({ body: "Escalated by ann@example.com: VIP customer", ticket_ref: t.reference_id });
  const without = await api(s, "POST", "/action/ticket/escalate", { attributes: { ticket_id: t.reference_id } }, bearer());
  expect(without.body).toEqual([
    { ResponseType: "client.notify", Attributes: { __type: "client.notify", type: "success", title: "Escalated", message: "Ticket 'Printer on fire' is now urgent" } },
    { ResponseType: "client.notify", Attributes: { __type: "client.notify", type: "warning", title: "No note", message: "No reason given, nothing recorded" } },
  ]);
  expect((await api(s, "POST", "/action/ticket/escalate", { attributes: {} }, bearer())).status).toBe(400);
});
