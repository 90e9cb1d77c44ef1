// `become_an_administrator`: the first user claims the instance and it leaves bootstrap mode (spec 30 section 3.6),
// implementing Daptin's intent: only `signin` stays open to guests, new rows get 561441 at once.
import { sql } from "drizzle-orm";
import { ADMINISTRATORS, hasAdministrator } from "../bootstrap.ts";
import type { SqlDb } from "../db/dialect.ts";
import { newReferenceId, uuidToBytes } from "../data/ids.ts";
import { forbidden } from "../errors.ts";
import { ALLOW_ALL_PERMISSIONS, bit, DEFAULT_PERMISSION } from "../permission/bits.ts";
import type { Registry } from "../schema/registry.ts";
import { LOCKED_ACTION_PERMISSION, SIGNIN_PERMISSION } from "../actions/builtin.ts";

/** Tables after lock-down: no guest peek (guests may only run actions the action row allows, i.e. signin). */
export const LOCKED_TABLE_PERMISSION = DEFAULT_PERMISSION & ~bit("guest", "peek");
/** What members of `users` may do with every table after lock-down: see it exists and run its actions. */
export const USERS_TABLE_GRANT = bit("group", "peek") | bit("group", "execute");

export function becomeAdministrator(db: SqlDb, registry: Registry, userId: number): void {
  db.transaction(() => {
    if (hasAdministrator(db)) throw forbidden("Forbidden", "this instance already has an administrator");
    const guest = db.get<{ id: number }>(sql`SELECT id FROM user_account WHERE email = 'guest@cms.go'`)?.id ?? -1;
    const now = new Date().toISOString();
    for (const t of registry.tables.values()) {
      if (!t.hasOwner) continue;
      const name = sql.identifier(t.name);
      // Ownerless rows and the bootstrap guest's rows go to the administrator; accounts keep owning themselves.
      if (t.name !== "user_account") {
        db.run(sql`UPDATE ${name} SET user_account_id = ${userId} WHERE user_account_id IS NULL OR user_account_id = ${guest}`);
      } else db.run(sql`UPDATE user_account SET user_account_id = ${userId} WHERE id = ${guest}`);
      const locked = t.name === "world" ? LOCKED_TABLE_PERMISSION : t.name === "action" ? LOCKED_ACTION_PERMISSION : DEFAULT_PERMISSION;
      db.run(sql`UPDATE ${name} SET permission = ${locked} WHERE permission = ${ALLOW_ALL_PERMISSIONS}`);
    }
    db.run(sql`UPDATE action SET permission = ${SIGNIN_PERMISSION} WHERE action_name = 'signin'`);
    const admins = db.get<{ id: number }>(sql`SELECT id FROM usergroup WHERE name = ${ADMINISTRATORS}`)!.id;
    db.run(sql`INSERT INTO user_account_user_account_id_has_usergroup_usergroup_id (user_account_id, usergroup_id, permission, reference_id, version, created_at, updated_at)
      VALUES (${userId}, ${admins}, ${DEFAULT_PERMISSION}, ${uuidToBytes(newReferenceId())}, 1, ${now}, ${now})`);
    // Signed-in users keep seeing the tables (rows stay filtered by their own permissions).
    const users = db.get<{ id: number }>(sql`SELECT id FROM usergroup WHERE name = 'users'`)?.id;
    if (users !== undefined) {
      const worlds = db.all<{ id: number }>(sql`SELECT w.id FROM world w WHERE NOT EXISTS
        (SELECT 1 FROM world_world_id_has_usergroup_usergroup_id j WHERE j.world_id = w.id AND j.usergroup_id = ${users})`);
      for (const w of worlds) {
        db.run(sql`INSERT INTO world_world_id_has_usergroup_usergroup_id (world_id, usergroup_id, permission, reference_id, version, created_at, updated_at)
          VALUES (${w.id}, ${users}, ${USERS_TABLE_GRANT}, ${uuidToBytes(newReferenceId())}, 1, ${now}, ${now})`);
      }
    }
  });
}
