// Keeps the `action` table in step with the action definitions (upsert by action name and table).
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { newReferenceId, uuidToBytes } from "../data/ids.ts";
import { ALLOW_ALL_PERMISSIONS, DEFAULT_PERMISSION } from "../permission/bits.ts";
import { LOCKED_ACTION_PERMISSION, SIGNIN_PERMISSION } from "./builtin.ts";
import type { ActionDef } from "./types.ts";

export function syncActions(db: SqlDb, actions: ActionDef[], locked: boolean): void {
  const owner = db.get<{ id: number }>(sql`SELECT id FROM user_account ORDER BY id LIMIT 1`)?.id ?? null;
  const now = new Date().toISOString();
  for (const a of actions) {
    const world = db.get<{ id: number }>(sql`SELECT id FROM world WHERE table_name = ${a.OnType}`);
    if (!world) continue; // an action on an unknown table is skipped, as Daptin does
    const schema = JSON.stringify(a);
    const have = db.get<{ id: number; action_schema: string }>(
      sql`SELECT id, action_schema FROM action WHERE action_name = ${a.Name} AND world_id = ${world.id}`,
    );
    if (have) {
      if (have.action_schema !== schema || a.Permission !== undefined) {
        const perm = a.Permission !== undefined ? sql`, permission = ${a.Permission}` : sql``;
        db.run(sql`UPDATE action SET label = ${a.Label}, instance_optional = ${a.InstanceOptional ? 1 : 0},
          action_schema = ${schema}, updated_at = ${now}${perm} WHERE id = ${have.id}`);
      }
      continue;
    }
    const permission = a.Permission ?? (!locked ? ALLOW_ALL_PERMISSIONS : a.Name === "signin" ? SIGNIN_PERMISSION : LOCKED_ACTION_PERMISSION);
    db.run(sql`INSERT INTO action (action_name, label, instance_optional, action_schema, world_id, user_account_id, permission, reference_id, version, created_at, updated_at)
      VALUES (${a.Name}, ${a.Label}, ${a.InstanceOptional ? 1 : 0}, ${schema}, ${world.id}, ${owner}, ${permission}, ${uuidToBytes(newReferenceId())}, 1, ${now}, ${now})`);
  }
  for (const a of actions) syncAccessGroups(db, a, now);
}

/** `AccessGroups` of an action: group grants on its row (upsert, never delete). */
function syncAccessGroups(db: SqlDb, a: ActionDef, now: string): void {
  if (!a.AccessGroups?.length) return;
  const row = db.get<{ id: number }>(sql`SELECT a.id FROM action a JOIN world w ON w.id = a.world_id WHERE w.table_name = ${a.OnType} AND a.action_name = ${a.Name}`);
  if (!row) return;
  for (const g of a.AccessGroups) {
    const group = db.get<{ id: number }>(sql`SELECT id FROM usergroup WHERE name = ${g.Name}`);
    if (!group) throw new Error(`action ${a.Name}: AccessGroups names unknown group "${g.Name}"`);
    const perm = g.Permission ?? DEFAULT_PERMISSION;
    const r = db.run(sql`UPDATE action_action_id_has_usergroup_usergroup_id SET permission = ${perm}, updated_at = ${now} WHERE action_id = ${row.id} AND usergroup_id = ${group.id}`);
    if (r.changes === 0) {
      db.run(sql`INSERT INTO action_action_id_has_usergroup_usergroup_id (action_id, usergroup_id, permission, reference_id, version, created_at, updated_at)
        VALUES (${row.id}, ${group.id}, ${perm}, ${uuidToBytes(newReferenceId())}, 1, ${now}, ${now})`);
    }
  }
}
