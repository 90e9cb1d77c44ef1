// password, bcrypt, md5, md5-bcrypt: hashed on write, never returned (reads always give "").
import { createHash } from "node:crypto";
import { availableParallelism } from "node:os";
import { type ColumnFamily, type ColumnLike, type ConversionContext, type JsonValue, kindOf, ValueError } from "./family.ts";

export const BCRYPT_COST = 11;

export function hashPassword(plain: string): Promise<string> {
  return Bun.password.hash(plain, { algorithm: "bcrypt", cost: BCRYPT_COST });
}

/** The text to hash: an empty password is a mistake, never a password (send null to clear a nullable one). */
function plainText(value: JsonValue, col: ColumnLike): string {
  if (typeof value !== "string") throw new ValueError(`${col.ColumnName} must be text, not ${kindOf(value)}`);
  const plain = value;
  if (plain === "") throw new ValueError(`${col.ColumnName} must not be empty (send null for no password)`);
  return plain;
}

const md5 = (s: string) => createHash("md5").update(s).digest("hex");

/** What a column of this type stores without bcrypt (`md5`), or the text bcrypt hashes (`md5-bcrypt`: the MD5). */
function hashInput(plain: string, col: ColumnLike): { stored: string } | { bcrypt: string } {
  const type = col.ColumnType.toLowerCase();
  if (type === "md5") return { stored: md5(plain) };
  return { bcrypt: type === "md5-bcrypt" ? md5(plain) : plain };
}

/**
 * Password hashes made ahead of a synchronous write: on worker threads (Bun.password), before the write's
 * transaction opens. The synchronous conversion takes one made from the same text instead of hashing on the event
 * loop. Each hash serves one write, so two rows with the same password still get salts of their own, unless it was
 * made `shared` (generated data: one random password for every row of a call).
 */
export class ReadyHashes {
  private readonly once = new Map<string, string[]>();
  private readonly shared = new Map<string, string>();

  /** Hashes a value as `col` will store it; nothing for values that need no bcrypt (null, md5) or are refused. */
  async add(value: JsonValue, col: ColumnLike, opts: { shared?: boolean } = {}): Promise<void> {
    if (typeof value !== "string" || value === "") return;
    const input = hashInput(value, col);
    if (!("bcrypt" in input) || (opts.shared && this.shared.has(input.bcrypt))) return;
    const hash = await hashPassword(input.bcrypt);
    if (opts.shared) this.shared.set(input.bcrypt, hash);
    else this.once.set(input.bcrypt, [...(this.once.get(input.bcrypt) ?? []), hash]);
  }

  /** A hash made ahead of `bcryptInput`, used up unless shared. */
  take(bcryptInput: string): string | undefined {
    const list = this.once.get(bcryptInput);
    if (list?.length) return list.pop();
    return this.shared.get(bcryptInput);
  }
}

/**
 * Runs `jobs` (password hashes) at most as many at a time as there are cores: Bun.password's worker pool is shared
 * with sign-ins, which must not wait behind a large import's whole backlog.
 */
export async function hashAll(jobs: (() => Promise<void>)[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await jobs[next++]!();
  };
  await Promise.all(Array.from({ length: Math.min(jobs.length, Math.max(1, availableParallelism())) }, worker));
}

/**
 * Inside a synchronous transaction: a hash made ahead (`ctx.hashes`) when there is one, else bcrypt on this thread
 * (values an action computes inside its own transaction; see docs/actions.md).
 */
function hashSync(value: JsonValue, col: ColumnLike, ctx?: ConversionContext): string | null {
  if (value === null) return null;
  const input = hashInput(plainText(value, col), col);
  if ("stored" in input) return input.stored;
  return ctx?.hashes?.take(input.bcrypt) ?? Bun.password.hashSync(input.bcrypt, { algorithm: "bcrypt", cost: BCRYPT_COST });
}

export const password: ColumnFamily = {
  name: "password",
  jsonType: "string",
  format: "password",
  opaque: true,
  async toDb(value, col) {
    if (value === null) return null;
    const input = hashInput(plainText(value, col), col);
    return "stored" in input ? input.stored : hashPassword(input.bcrypt);
  },
  toDbSync: hashSync,
  fromDb() {
    return "";
  },
};
