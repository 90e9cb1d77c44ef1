// Users and their groups: building identities from tokens or emails, checking passwords.
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { bytesToUuid, isUuid, uuidToBytes } from "../data/ids.ts";
import { unauthorized } from "../errors.ts";
import type { Identity } from "./identity.ts";
import type { TokenClaims } from "./jwt.ts";

interface UserRow {
  id: number;
  reference_id: Uint8Array;
  email: string;
  name: string;
  password: string | null;
  auth_version: number | null;
  groups: string | null;
}

const USER_WITH_GROUPS = () => sql`SELECT u.id, u.reference_id, u.email, u.name, u.password, u.auth_version,
  (SELECT group_concat(m.usergroup_id) FROM user_account_user_account_id_has_usergroup_usergroup_id m WHERE m.user_account_id = u.id) AS groups
  FROM user_account u`;

/** How many signed-in users' identities are remembered between requests. */
const IDENTITY_CACHE_SIZE = 10_000;

export class Users {
  private adminGroupId: number | null | undefined;
  /** user reference id -> identity and auth version; dropped whenever accounts, groups or memberships change. */
  private readonly identities = new Map<string, { identity: Identity; authVersion: number }>();

  constructor(private readonly db: SqlDb) {}

  /**
   * Forgets cached facts (identities, the administrators group id): called after a write to accounts, groups or
   * memberships, and after another process changed the database.
   */
  invalidate(): void {
    this.adminGroupId = undefined;
    this.identities.clear();
  }

  administratorsGroupId(): number | null {
    if (this.adminGroupId === undefined) {
      this.adminGroupId = this.db.prepare("user:admins", () => sql`SELECT id FROM usergroup WHERE name = 'administrators'`).get<{ id: number }>()?.id ?? null;
    }
    return this.adminGroupId;
  }

  private toIdentity(u: UserRow): Identity {
    const groupIds = u.groups ? u.groups.split(",").map(Number) : [];
    const admin = this.administratorsGroupId();
    // Frozen: one identity object is shared by every request of the same user while it is cached.
    return Object.freeze({
      kind: "user",
      userId: u.id,
      userRef: bytesToUuid(u.reference_id),
      email: u.email,
      name: u.name,
      groupIds: Object.freeze(groupIds) as number[],
      isAdmin: admin !== null && groupIds.includes(admin),
    });
  }

  /** One user with the groups they belong to, by a unique column (one prepared statement per column). */
  private row(column: "email" | "id" | "reference_id", value: unknown): UserRow | undefined {
    return this.db
      .prepare(`user:${column}`, () => sql`${USER_WITH_GROUPS()} WHERE u.${sql.identifier(column)} = ${sql.placeholder("v")}`)
      .get<UserRow>({ v: value });
  }

  byEmail(email: string): (Identity & { passwordHash: string | null; authVersion: number }) | null {
    const u = this.row("email", email.trim().toLowerCase());
    return u ? { ...this.toIdentity(u), passwordHash: u.password, authVersion: u.auth_version ?? 1 } : null;
  }

  byId(id: number): Identity | null {
    const u = this.row("id", id);
    return u ? this.toIdentity(u) : null;
  }

  byRef(ref: string): Identity | null {
    const u = isUuid(ref) ? this.row("reference_id", uuidToBytes(ref)) : undefined;
    return u ? this.toIdentity(u) : null;
  }

  /** The identity a verified token stands for; a deleted user or a changed password makes it stale (401). */
  fromClaims(claims: TokenClaims): Identity {
    let known = this.identities.get(claims.sub);
    if (!known) {
      const u = this.row("reference_id", uuidToBytes(claims.sub));
      if (!u) throw unauthorized("Invalid token", "the user of this token no longer exists");
      known = { identity: this.toIdentity(u), authVersion: u.auth_version ?? 1 };
      if (this.identities.size >= IDENTITY_CACHE_SIZE) this.identities.clear();
      this.identities.set(claims.sub, known);
    }
    if (typeof claims.auth_version !== "number" || claims.auth_version !== known.authVersion) {
      throw unauthorized("Invalid token", "the token is stale (the password was changed); sign in again");
    }
    return known.identity;
  }
}

let dummyHash: Promise<string> | undefined;

/** Constant work whether or not the user exists, so timing does not reveal which emails are registered. */
export async function checkPassword(plain: string, hash: string | null | undefined): Promise<boolean> {
  if (!hash) {
    dummyHash ??= Bun.password.hash("no such user", { algorithm: "bcrypt", cost: 11 });
    await Bun.password.verify(plain, await dummyHash).catch(() => false);
    return false;
  }
  try {
    return await Bun.password.verify(plain, hash);
  } catch {
    return false;
  }
}
