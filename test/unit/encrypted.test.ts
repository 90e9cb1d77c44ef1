// encrypted columns: stored and returned as ciphertext (Daptin's AES-CFB format), decryptable with the instance key.
import { expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { Engine } from "../../src/engine/engine.ts";
import { SYSTEM } from "../../src/engine/identity/identity.ts";
import { decrypt, encrypt } from "../../src/engine/schema/column-types/encrypted.ts";

test("an encrypted column never stores or returns the plain text", async () => {
  const { engine } = Engine.open({ dbType: "sqlite", db: ":memory:" });
  const created = await engine.data.create(SYSTEM, "credential", { attributes: { name: "smtp", content: "hunter2-secret" } });
  const shown = created.attributes.content as string;
  expect(shown).not.toContain("hunter2");
  const raw = engine.db.get<{ content: string }>(sql`SELECT content FROM credential`)!.content;
  expect(raw).toBe(shown);
  expect(decrypt(raw, engine.config.get("encryption.secret"))).toBe("hunter2-secret");
  // A fresh IV each time: the same text encrypts differently.
  const again = await engine.data.update(SYSTEM, "credential", created.id, { attributes: { content: "hunter2-secret" } });
  expect(again.attributes.content).not.toBe(shown);
  engine.close();
});

test("round trip and a wrong key", () => {
  const secret = "0123456789abcdef0123456789abcdef";
  const c = encrypt("päss wörd", secret);
  expect(c).toMatch(/^[A-Za-z0-9_-]+$/);
  expect(decrypt(c, secret)).toBe("päss wörd");
  expect(decrypt(c, "ffffffffffffffffffffffffffffffff")).not.toBe("päss wörd");
  expect(() => encrypt("x", undefined)).toThrow("encryption is not configured");
});
