// encrypted: AES-256-CFB with the instance's `encryption.secret`, a random IV in front, URL-safe base64 — the
// format Daptin writes, so values move between the two. Reads return the ciphertext, as Daptin does; only
// server-side code that holds the key decrypts.
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { type ColumnFamily, scalarText, ValueError } from "./family.ts";

function key(secret: string | undefined): Buffer {
  if (!secret || secret.length < 16) throw new ValueError("encryption is not configured on this instance");
  return Buffer.from(secret.padEnd(32, "0").slice(0, 32), "utf8");
}

export function encrypt(plain: string, secret: string | undefined): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cfb", key(secret), iv);
  return Buffer.concat([iv, cipher.update(plain, "utf8"), cipher.final()]).toString("base64url");
}

export function decrypt(text: string, secret: string | undefined): string {
  const raw = Buffer.from(text, "base64url");
  const decipher = createDecipheriv("aes-256-cfb", key(secret), raw.subarray(0, 16));
  return Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]).toString("utf8");
}

export const encrypted: ColumnFamily = {
  name: "encrypted",
  jsonType: "string",
  toDb(value, col, ctx) {
    if (value === null) return null;
    return encrypt(scalarText(value, col), ctx?.encryptionSecret);
  },
  fromDb(value) {
    return value === null || value === undefined ? null : String(value);
  },
  opaque: true,
};
