// Users and their groups: building identities from tokens or emails, checking passwords.
import { availableParallelism } from "node:os";
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { bytesToUuid, isUuid, uuidToBytes } from "../data/ids.ts";
import { DaptinError, unauthorized } from "../errors.ts";
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

/** Password checks running at once (Bun.password.verify: ~100 ms of one core each, on a worker thread). */
const CHECKS_AT_ONCE = Math.max(1, availableParallelism());
/** How long a check may wait for its turn: with the check itself, a sign-in is answered within a second. */
const MAX_WAIT_MS = 400;
/** Checks waiting at most (each holds a connection and a timer); past it a sign-in is refused at once. */
const MAX_WAITING = 1000;

const busy = () => new DaptinError("unavailable", "Server busy", { detail: "too many sign-ins are being checked at once; retry in 1 s", retryAfter: 1 });

interface Waiter {
  resolve: () => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The line of password checks. Unbounded, a spray of guesses (each at another account from another address, so
 * under every throttle limit) made each check, the owner's too, wait behind all of them: seconds. Bounded, a check
 * waits its turn at most MAX_WAIT_MS, in order of arrival, then gets a 503 to retry; no bcrypt work is spent on it.
 * A refusal takes that long (not an instant) so that guessers who do not wait before retrying cannot crowd out
 * everyone else with thousands of refused requests a second.
 */
class CheckLine {
  private running = 0;
  /** In order of arrival. */
  private readonly waiting = new Set<Waiter>();

  async enter(): Promise<void> {
    if (this.running < CHECKS_AT_ONCE) {
      this.running++;
      return;
    }
    if (this.waiting.size >= MAX_WAITING) throw busy();
    await new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiting.delete(w);
          reject(busy());
        }, MAX_WAIT_MS),
      };
      this.waiting.add(w);
    });
  }

  /** Hands the place to the next in line (it counts as running already), or frees it. */
  leave(): void {
    const next = this.waiting.values().next();
    if (next.done) {
      this.running--;
      return;
    }
    this.waiting.delete(next.value);
    clearTimeout(next.value.timer);
    next.value.resolve();
  }
}

const line = new CheckLine();

/** Runs `work` holding a place in the line of password checks, or throws a 503 (Retry-After 1) when none comes in time. */
export async function inCheckLine<T>(work: () => Promise<T>): Promise<T> {
  await line.enter();
  try {
    return await work();
  } finally {
    line.leave();
  }
}

/**
 * Checks a password, waiting for its turn in the line. Throws only when the turn does not come (a 503): then
 * nothing was checked.
 */
export function checkPassword(plain: string, hash: string | null | undefined): Promise<boolean> {
  return inCheckLine(() => verifyPassword(plain, hash));
}

/** Constant work whether or not the user exists, so timing does not reveal which emails are registered. */
async function verifyPassword(plain: string, hash: string | null | undefined): Promise<boolean> {
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
