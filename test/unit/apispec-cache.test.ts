// The OpenAPI cache: one serialized document per caller view, whatever server URL is asked for, kept by size.
import { afterAll, expect, test } from "bun:test";
import { ApiSpecCache, openApiText } from "../../src/apispec/cache.ts";
import { Engine } from "../../src/engine/engine.ts";
import { GUEST, type Identity, SYSTEM } from "../../src/engine/identity/identity.ts";

const { engine } = Engine.open({ dbType: "sqlite", db: ":memory:" });
afterAll(() => engine.close());

const user = (userId: number): Identity => ({ ...GUEST, kind: "user", userId, userRef: `u${userId}`, email: `u${userId}@example.com`, name: `u${userId}` });
const text = async (a: { body: () => Blob }) => await a.body().text();

test("server URLs do not multiply entries; each answer names its own URL, in JSON and YAML", async () => {
  const cache = new ApiSpecCache(engine);
  for (let i = 0; i < 50; i++) {
    const url = `http://evil-${i}.example`;
    const json = cache.answer(GUEST, "json", url);
    const yaml = cache.answer(GUEST, "yaml", url);
    if (i % 10 !== 0) continue;
    expect(JSON.parse(await text(json)).servers).toEqual([{ url }]);
    expect((Bun.YAML.parse(await text(yaml)) as { servers: unknown }).servers).toEqual([{ url }]);
  }
  expect(cache.stats.entries).toBe(1);
  // A URL that needs quoting in either format is spliced in as a quoted string, not as markup.
  const odd = 'http://h"x\\: #y\n';
  expect(JSON.parse(await text(cache.answer(GUEST, "json", odd))).servers).toEqual([{ url: odd }]);
  expect((Bun.YAML.parse(await text(cache.answer(GUEST, "yaml", odd))) as { servers: unknown }).servers).toEqual([{ url: odd }]);
  // The spliced document is the one built with that URL.
  const url = "http://127.0.0.1:6336";
  expect(await text(cache.answer(SYSTEM, "json", url))).toBe(openApiText(engine, SYSTEM, "json", url));
  expect(await text(cache.answer(SYSTEM, "yaml", url))).toBe(openApiText(engine, SYSTEM, "yaml", url));
});

test("entries are per view, not per user: users who may see the same share one", async () => {
  const cache = new ApiSpecCache(engine);
  cache.answer(SYSTEM, "json", "http://a");
  cache.answer(user(1), "json", "http://a");
  const views = cache.stats.entries;
  for (let id = 2; id < 40; id++) cache.answer(user(id), "json", "http://a");
  expect(cache.stats.entries).toBe(views);
  // Different views are different documents.
  const admin = JSON.parse(await text(cache.answer(SYSTEM, "json", "http://a")));
  const guest = JSON.parse(await text(cache.answer(GUEST, "json", "http://a")));
  expect(Object.keys(admin.paths).length).toBeGreaterThan(Object.keys(guest.paths).length);
});

test("the cache is bounded by bytes: least recently used out first; a document over the cap is served, not kept", async () => {
  const probe = new ApiSpecCache(engine);
  probe.answer(SYSTEM, "json", "http://a");
  const adminJson = probe.stats.bytes;
  probe.answer(GUEST, "json", "http://a");
  const guestJson = probe.stats.bytes - adminJson;
  expect(guestJson).toBeGreaterThan(0);

  // Room for the admin's JSON and a little more: the guest's document pushes the admin's out.
  const cache = new ApiSpecCache(engine, adminJson + guestJson - 1);
  cache.answer(SYSTEM, "json", "http://a");
  cache.answer(GUEST, "json", "http://a");
  expect(cache.stats).toEqual({ entries: 1, bytes: guestJson });
  // Adding the YAML to an entry counts too, and the entry that no longer fits goes.
  const guestYaml = await text(cache.answer(GUEST, "yaml", "http://b"));
  expect(cache.stats.bytes).toBeLessThanOrEqual(adminJson + guestJson - 1);
  expect(guestYaml).toBe(openApiText(engine, GUEST, "yaml", "http://b"));

  const tiny = new ApiSpecCache(engine, 1000);
  expect(await text(tiny.answer(SYSTEM, "json", "http://c"))).toBe(openApiText(engine, SYSTEM, "json", "http://c"));
  expect(await text(tiny.answer(SYSTEM, "yaml", "http://c"))).toBe(openApiText(engine, SYSTEM, "yaml", "http://c"));
  expect(tiny.stats).toEqual({ entries: 0, bytes: 0 });
});

test("ETags differ with the view, the server URL and the format, and stay for the same answer", () => {
  const cache = new ApiSpecCache(engine);
  const tag = (who: Identity, format: "json" | "yaml", url: string) => cache.answer(who, format, url).etag;
  expect(tag(GUEST, "json", "http://a")).toBe(tag(GUEST, "json", "http://a"));
  expect(tag(GUEST, "json", "http://a")).toMatch(/^W\/"[0-9a-f]{64}"$/);
  const all = new Set([tag(GUEST, "json", "http://a"), tag(GUEST, "json", "http://b"), tag(GUEST, "yaml", "http://a"), tag(SYSTEM, "json", "http://a")]);
  expect(all.size).toBe(4);
});
