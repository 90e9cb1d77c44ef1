// Loading permission instances (spec 30 section 2.2): a table's world row, a data row, with their group grants.
import { sql } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import type { TableInfo } from "../schema/registry.ts";
import type { PermissionInstance } from "./check.ts";
import { sharingTable } from "./sql-filter.ts";

/** Table-level instances are read on every request; they are cached until a write touches `world`. */
export class TablePermissions {
  private cache = new Map<string, PermissionInstance | null>();

  constructor(private readonly db: SqlDb) {}

  invalidate(): void {
    this.cache.clear();
  }

  of(table: string): PermissionInstance | null {
    let inst = this.cache.get(table);
    if (inst === undefined) {
      const row = this.db.get<{ id: number; permission: number; user_account_id: number | null }>(
        sql`SELECT id, permission, user_account_id FROM world WHERE table_name = ${table}`,
      );
      inst = row
        ? {
            ownerId: row.user_account_id,
            permission: row.permission,
            groups: this.db.all<{ groupId: number; permission: number }>(
              sql`SELECT usergroup_id AS groupId, permission FROM world_world_id_has_usergroup_usergroup_id WHERE world_id = ${row.id}`,
            ),
          }
        : null;
      this.cache.set(table, inst);
    }
    return inst;
  }
}

/** A row's instance from its already-loaded permission and owner, plus its group grants. */
export function rowInstance(db: SqlDb, table: TableInfo, has: { id: number; permission: number; user_account_id?: unknown }, registry: { get(n: string): TableInfo | undefined }): PermissionInstance {
  if (table.name === "usergroup") {
    return { ownerId: null, permission: has.permission, groups: [{ groupId: has.id, permission: has.permission }] };
  }
  if (table.isJoin) return { ownerId: null, permission: has.permission, groups: [] };
  const share = sharingTable(table.name);
  const owner = table.hasOwner && typeof has.user_account_id === "number" ? has.user_account_id : null;
  let groups: { groupId: number; permission: number }[] | undefined;
  return {
    ownerId: owner,
    permission: has.permission,
    // Read only when the owner and guest bits did not already decide (most checks never need them).
    get groups() {
      groups ??= registry.get(share)
        ? db
            .prepare(`share:${table.name}`, () =>
              sql`SELECT usergroup_id AS groupId, permission FROM ${sql.identifier(share)} WHERE ${sql.identifier(`${table.name}_id`)} = ${sql.placeholder("id")}`,
            )
            .all<{ groupId: number; permission: number }>({ id: has.id })
        : [];
      return groups;
    },
  };
}
