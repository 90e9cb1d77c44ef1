// The OpenAPI document's memory is bounded whatever clients send: the server URL (from the Host header) and the
// caller do not multiply cached documents; answers still name the URL they were fetched from. ETags spare re-sends.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { api, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
beforeAll(async () => {
  s = await startServer({ schemas: ["schema_product.yaml"] });
});
afterAll(async () => {
  await s.stop();
});

const rssMiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${s.pid}/status`, "utf8"))![1]) / 1024;
const spec = (format: "json" | "yaml", headers: Record<string, string>) => fetch(`${s.url}/openapi.${format}`, { headers });
const serversOf = (format: "json" | "yaml", text: string) =>
  (format === "json" ? JSON.parse(text) : (Bun.YAML.parse(text) as { servers: unknown })).servers;

test("200 distinct Host headers and 10 users leave the server's memory bounded; each answer names its own server", async () => {
  for (const f of ["json", "yaml"] as const) expect((await spec(f, { Host: "warm.example" })).status).toBe(200);
  const base = rssMiB();
  // Before: one cached copy (JSON, YAML and the document object) per Host: 96 to 4,413 MiB for 200 hosts.
  const bound = base + 400;
  let worst = base;
  const over = () => (worst = Math.max(worst, rssMiB())) > bound;
  for (let i = 0; i < 200 && !over(); i++) {
    const host = `evil-${i}.example`;
    const answers = await Promise.all((["json", "yaml"] as const).map(async (f) => [f, await (await spec(f, { Host: host })).text()] as const));
    if (i % 40 === 0) for (const [f, text] of answers) expect(serversOf(f, text)).toEqual([{ url: `http://${host}` }]);
  }
  expect(worst).toBeLessThan(bound);
  // Users who see the same tables and actions share one document (before: one per user id).
  for (let i = 0; i < 10 && !over(); i++) {
    const email = `viewer${i}@example.com`;
    await api(s, "POST", "/action/user_account/signup", { attributes: { name: `v${i}`, email, password: "correct horse", passwordConfirm: "correct horse" } });
    const signin = await api(s, "POST", "/action/user_account/signin", { attributes: { email, password: "correct horse" } });
    const token = signin.body[0].Attributes.value as string;
    for (const f of ["json", "yaml"] as const) {
      const r = await spec(f, { Authorization: `Bearer ${token}`, Host: `user-${i}.example` });
      expect(r.status).toBe(200);
      const text = await r.text();
      if (i % 5 === 0) expect(serversOf(f, text)).toEqual([{ url: `http://user-${i}.example` }]);
    }
  }
  expect(worst).toBeLessThan(bound);
}, 120_000);

test("the document has an ETag per view, server and format: If-None-Match answers 304 without a body", async () => {
  const first = await spec("json", {});
  const etag = first.headers.get("etag")!;
  expect(etag).toMatch(/^W\/"[0-9a-f]{64}"$/);
  expect(first.headers.get("cache-control")).toBe("private, no-cache");
  await first.text();
  const again = await spec("json", { "If-None-Match": etag });
  expect(again.status).toBe(304);
  expect(again.headers.get("etag")).toBe(etag);
  expect(await again.text()).toBe("");
  // Another server URL or format is another answer.
  const elsewhere = await spec("json", { "If-None-Match": etag, Host: "other.example" });
  expect(elsewhere.status).toBe(200);
  expect(serversOf("json", await elsewhere.text())).toEqual([{ url: "http://other.example" }]);
  const yaml = await spec("yaml", { "If-None-Match": etag });
  expect(yaml.status).toBe(200);
  expect(yaml.headers.get("etag")).not.toBe(etag);
  await yaml.text();
});
