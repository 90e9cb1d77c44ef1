// List filtering in SQL (spec 30 section 2.6): the rows a caller may read, so totals and pages are exact.
import { sql, type SQL } from "drizzle-orm";
import type { Identity } from "../identity/identity.ts";
import type { TableInfo } from "../schema/registry.ts";
import { bit } from "./bits.ts";

const GUEST_READ = bit("guest", "read");
const OWNER_READ = bit("owner", "read");
const GROUP_READ = bit("group", "read");

export function sharingTable(table: string): string {
  return `${table}_${table}_id_has_usergroup_usergroup_id`;
}

/** The columns of the listed table the read filter looks at (an update of others cannot change what a caller sees). */
export const READ_FILTER_COLUMNS = ["permission", "user_account_id"] as const;

export interface ReadFilter {
  /** Built only when a statement of this shape is compiled (prepared statements skip it). */
  sql: () => SQL;
  /** Values of its placeholders (`uid`, `g0`, `g1`, ...). */
  values: Record<string, unknown>;
  /** Identifies the statement shape (same shape = same SQL text), for prepared-statement keys. */
  shape: string;
}

/** A WHERE condition over alias `t`, or null when the caller sees every row. */
export function readFilter(who: Identity, table: TableInfo, registry: { get(name: string): TableInfo | undefined }): ReadFilter | null {
  if (who.isAdmin) return null;
  const values: Record<string, unknown> = { uid: who.userId };
  who.groupIds.forEach((g, i) => (values[`g${i}`] = g));
  return { sql: () => filterSql(who, table, registry), values, shape: `${who.userId === null ? "guest" : "user"}:${who.groupIds.length}` };
}

function filterSql(who: Identity, table: TableInfo, registry: { get(name: string): TableInfo | undefined }): SQL {
  const groups = () => sql.join(who.groupIds.map((_, i) => sql.placeholder(`g${i}`)), sql`, `);
  const parts: SQL[] = [sql`(t.permission & ${GUEST_READ}) != 0`];
  if (table.name === "usergroup") {
    // A group row is shared with itself: members read it through its own group bits.
    if (who.groupIds.length > 0) {
      parts.push(sql`(t.id IN (${groups()}) AND (t.permission & ${GROUP_READ}) != 0)`);
    }
  } else {
    if (table.hasOwner && who.userId !== null) {
      parts.push(sql`(t.user_account_id = ${sql.placeholder("uid")} AND (t.permission & ${OWNER_READ}) != 0)`);
    }
    const share = sharingTable(table.name);
    if (who.groupIds.length > 0 && registry.get(share)) {
      const fk = sql.identifier(`${table.name}_id`);
      parts.push(sql`EXISTS (SELECT 1 FROM ${sql.identifier(share)} j WHERE j.${fk} = t.id AND (j.permission & ${GROUP_READ}) != 0 AND j.usergroup_id IN (${groups()}))`);
    }
  }
  return sql`(${sql.join(parts, sql` OR `)})`;
}
