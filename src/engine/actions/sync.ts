// Keeps the `action` table in step with the action definitions (upsert by action name and table).
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { newReferenceId, uuidToBytes } from "../data/ids.ts";
import { grantGroups } from "../bootstrap.ts";
import { ALLOW_ALL_PERMISSIONS } from "../permission/bits.ts";
import { LOCKED_ACTION_PERMISSION, SIGNIN_PERMISSION } from "./builtin.ts";
import type { ActionDef } from "./types.ts";

export function syncActions(db: SqlDb, actions: ActionDef[], locked: boolean): void {
  const owner = db.get<{ id: number }>(sql`SELECT id FROM user_account ORDER BY id LIMIT 1`)?.id ?? null;
  const now = new Date().toISOString();
  for (const a of actions) {
    const world = db.get<{ id: number }>(sql`SELECT id FROM world WHERE table_name = ${a.OnType}`);
    if (!world) continue; // an action on an unknown table is skipped, as Daptin does
    const schema = JSON.stringify(a);
    const have = db.get<{ id: number; action_schema: string; permission: number }>(
      sql`SELECT id, action_schema, permission FROM action WHERE action_name = ${a.Name} AND world_id = ${world.id}`,
    );
    let id: number;
    if (have) {
      id = have.id;
      // Only a real change is written: applying the same schema again leaves the rows (and updated_at) as they were.
      if (have.action_schema !== schema || (a.Permission !== undefined && a.Permission !== have.permission)) {
        const perm = a.Permission !== undefined ? sql`, permission = ${a.Permission}` : sql``;
        db.run(sql`UPDATE action SET label = ${a.Label}, instance_optional = ${a.InstanceOptional ? 1 : 0},
          action_schema = ${schema}, updated_at = ${now}${perm} WHERE id = ${have.id}`);
      }
    } else {
      const permission = a.Permission ?? (!locked ? ALLOW_ALL_PERMISSIONS : a.Name === "signin" ? SIGNIN_PERMISSION : LOCKED_ACTION_PERMISSION);
      id = db.run(sql`INSERT INTO action (action_name, label, instance_optional, action_schema, world_id, user_account_id, permission, reference_id, version, created_at, updated_at)
        VALUES (${a.Name}, ${a.Label}, ${a.InstanceOptional ? 1 : 0}, ${schema}, ${world.id}, ${owner}, ${permission}, ${uuidToBytes(newReferenceId())}, 1, ${now}, ${now})`).lastInsertRowid;
    }
    if (a.AccessGroups?.length) grantGroups(db, "action", id, a.AccessGroups, `action ${a.Name}`);
  }
}
