// User accounts as an operator sees and fixes them (`daptin user list|set-password`, `daptin status`). Nothing
// here returns a password hash; a password change goes through the data service (hashing, auth_version, caches).
import { sql } from "drizzle-orm";
import { MIN_PASSWORD } from "../actions/performers/signup.ts";
import { ADMINISTRATORS } from "../bootstrap.ts";
import type { DataService } from "../data/crud.ts";
import { bytesToUuid } from "../data/ids.ts";
import type { SqlDb } from "../db/dialect.ts";
import { notFound, validation } from "../errors.ts";
import type { Groups } from "./groups.ts";
import { SYSTEM } from "./identity.ts";
import { checkPassword, type Users } from "./users.ts";

export interface AccountSummary {
  email: string;
  name: string;
  reference_id: string;
  /** Names of the groups the user belongs to. */
  groups: string[];
  administrator: boolean;
}

export function listAccounts(db: SqlDb, groups: Groups): AccountSummary[] {
  const of = new Map<number, string[]>();
  for (const m of groups.memberships()) of.set(m.userId, [...(of.get(m.userId) ?? []), m.group]);
  return db
    .all<{ id: number; ref: Uint8Array; email: string; name: string }>(sql`SELECT id, reference_id AS ref, email, name FROM user_account ORDER BY id`)
    .map((u) => {
      const names = of.get(u.id) ?? [];
      return { email: u.email, name: u.name, reference_id: bytesToUuid(u.ref)!, groups: names, administrator: names.includes(ADMINISTRATORS) };
    });
}

/**
 * Sets a user's password (stored hashed; tokens issued before become stale). Returns false, writing nothing, when
 * the password is that already, so running the same provisioning step twice does not sign everyone out.
 */
export async function setPassword(data: DataService, users: Users, email: string, password: string): Promise<boolean> {
  if (password.length < MIN_PASSWORD) {
    throw validation("Validation failed", `password: must be at least ${MIN_PASSWORD} characters`, { pointer: "/attributes/password" });
  }
  const user = users.byEmail(email);
  if (!user) throw notFound("Unknown user", `there is no user with email ${email}`);
  if (await checkPassword(password, user.passwordHash)) return false;
  await data.update(SYSTEM, "user_account", user.userRef!, { attributes: { password } });
  return true;
}
