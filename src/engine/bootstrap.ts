// First-start data and the world registry rows (spec 10 sections 7.5 and 8.5, spec 30 section 3.2).
import { createHash, randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { sql } from "drizzle-orm";
import { type ConfigStore, TRUSTED_PROXIES_KEY } from "./config-store.ts";
import { THROTTLE_CONFIG_KEY } from "./identity/throttle.ts";
import type { SqlDb } from "./db/dialect.ts";
import { newReferenceId, uuidToBytes } from "./data/ids.ts";
import { ALLOW_ALL_PERMISSIONS, DEFAULT_PERMISSION } from "./permission/bits.ts";
import type { Registry, TableInfo } from "./schema/registry.ts";
import { schemaError } from "./errors.ts";
import { worldSchemaJson } from "./schema/world.ts";

const now = () => new Date().toISOString();

/** The administrators group is the second seeded group; Daptin relies on its id being 2. */
export const ADMINISTRATORS = "administrators";

export function hasAdministrator(db: SqlDb): boolean {
  return (
    db.get(sql`SELECT 1 AS x FROM user_account_user_account_id_has_usergroup_usergroup_id m
      JOIN usergroup g ON g.id = m.usergroup_id WHERE g.name = ${ADMINISTRATORS} LIMIT 1`) !== undefined
  );
}

/** Guest user, the three groups and the guest's membership, on an empty database. */
export function seedIfEmpty(db: SqlDb): boolean {
  if (db.get(sql`SELECT 1 AS x FROM user_account LIMIT 1`)) return false;
  const ts = now();
  const guest = db.run(sql`INSERT INTO user_account (name, email, permission, reference_id, version, created_at, updated_at)
    VALUES ('guest', 'guest@cms.go', ${DEFAULT_PERMISSION}, ${uuidToBytes(newReferenceId())}, 1, ${ts}, ${ts})`).lastInsertRowid;
  db.run(sql`UPDATE user_account SET user_account_id = ${guest} WHERE id = ${guest}`);
  const groupIds: Record<string, number> = {};
  for (const name of ["guests", ADMINISTRATORS, "users"]) {
    groupIds[name] = db.run(sql`INSERT INTO usergroup (name, permission, reference_id, version, created_at, updated_at)
      VALUES (${name}, ${DEFAULT_PERMISSION}, ${uuidToBytes(newReferenceId())}, 1, ${ts}, ${ts})`).lastInsertRowid;
  }
  db.run(sql`INSERT INTO user_account_user_account_id_has_usergroup_usergroup_id (user_account_id, usergroup_id, permission, reference_id, version, created_at, updated_at)
    VALUES (${guest}, ${groupIds.users!}, 0, ${uuidToBytes(newReferenceId())}, 1, ${ts}, ${ts})`);
  return true;
}

/** Groups a schema declares (`UserGroups`): created when missing, left alone otherwise. */
export function ensureGroups(db: SqlDb, names: string[]): void {
  const ts = now();
  for (const name of names) {
    if (db.get(sql`SELECT 1 AS x FROM usergroup WHERE name = ${name}`)) continue;
    db.run(sql`INSERT INTO usergroup (name, permission, reference_id, version, created_at, updated_at)
      VALUES (${name}, ${DEFAULT_PERMISSION}, ${uuidToBytes(newReferenceId())}, 1, ${ts}, ${ts})`);
  }
}

export interface WorldChange {
  table: string;
  kind: "insert" | "update";
}

/** What syncWorld may be given ahead: tables' stored JSON, and new tables whose rows stageWorldRows wrote already. */
export interface WorldAhead {
  json?: ReadonlyMap<string, string>;
  staged?: ReadonlySet<string>;
}

/** The columns of a new world row, in the order the insert and the staging table use. */
const WORLD_COLUMNS = "table_name, world_schema_json, permission, reference_id, user_account_id, is_top_level, is_hidden, " +
  "is_join_table, is_state_tracking_enabled, default_order, icon, version, created_at, updated_at";

function newWorldRow(db: SqlDb, key: string, target: string, t: TableInfo, text: string, defaults: { permission: number; owner: number | null }, ts: string): void {
  const p = (name: string) => sql.placeholder(name);
  const d = t.def;
  // One prepared statement for every new table (a large upload inserts thousands).
  db.prepare(key, () => sql`INSERT INTO ${sql.raw(target)} (${sql.raw(WORLD_COLUMNS)})
    VALUES (${p("name")}, ${p("json")}, ${p("permission")}, ${p("ref")}, ${p("owner")}, ${p("top")}, ${p("hidden")}, ${p("join")}, ${p("tracking")},
      ${p("order")}, ${p("icon")}, 1, ${p("ts")}, ${p("ts")})`).run({
    name: t.name, json: text, permission: d.Permission || defaults.permission, ref: uuidToBytes(newReferenceId()), owner: defaults.owner,
    top: t.isJoin ? 0 : 1, hidden: d.IsHidden ? 1 : 0, join: t.isJoin ? 1 : 0, tracking: d.IsStateTrackingEnabled ? 1 : 0, order: d.DefaultOrder,
    icon: d.Icon || "fa-star", ts,
  });
}

function worldDefaults(db: SqlDb): { permission: number; owner: number | null } {
  return {
    permission: hasAdministrator(db) ? DEFAULT_PERMISSION : ALLOW_ALL_PERMISSIONS,
    owner: db.get<{ id: number }>(sql`SELECT id FROM user_account ORDER BY id LIMIT 1`)?.id ?? null,
  };
}

/**
 * New tables' world rows written ahead, into a table of this connection's own temporary database: nobody else sees
 * them until syncWorld moves them into `world`, in the transaction that publishes the change.
 */
export function stageWorldRows(db: SqlDb, tables: TableInfo[], json: ReadonlyMap<string, string>): void {
  db.run(sql.raw(`CREATE TEMP TABLE IF NOT EXISTS staged_world AS SELECT ${WORLD_COLUMNS} FROM main.world WHERE 0`));
  const defaults = worldDefaults(db);
  const ts = now();
  for (const t of tables) newWorldRow(db, "world:stage", "temp.staged_world", t, json.get(t.name)!, defaults, ts);
}

/** Forgets rows stageWorldRows wrote (a change that failed). */
export function discardStagedWorld(db: SqlDb): void {
  if (db.get(sql`SELECT 1 AS x FROM temp.sqlite_master WHERE name = 'staged_world'`)) db.run(sql.raw("DELETE FROM temp.staged_world"));
}

/** Upserts one world row per table, and the tables' group grants. Returns the tables whose stored definition changed. */
export function syncWorld(db: SqlDb, registry: Registry, ahead: WorldAhead = {}): WorldChange[] {
  const json = ahead.json ?? new Map<string, string>();
  const staged = ahead.staged ?? new Set<string>();
  const defaults = worldDefaults(db);
  const stored = new Map(
    db.all<{ id: number; table_name: string; world_schema_json: string; permission: number }>(
      sql`SELECT id, table_name, world_schema_json, permission FROM world`,
    ).map((r) => [r.table_name, r]),
  );
  const changes: WorldChange[] = [];
  const ts = now();
  for (const t of registry.tables.values()) {
    if (staged.has(t.name)) continue;
    const text = json.get(t.name) ?? worldSchemaJson(t, registry.relationsOf(t.name));
    const have = stored.get(t.name);
    const d = t.def;
    if (!have) {
      newWorldRow(db, "world:insert", "main.world", t, text, defaults, ts);
      changes.push({ table: t.name, kind: "insert" });
    } else if (have.world_schema_json !== text || (d.Permission && d.Permission !== have.permission)) {
      db.run(sql`UPDATE world SET world_schema_json = ${text}, is_top_level = ${t.isJoin ? 0 : 1}, is_hidden = ${d.IsHidden ? 1 : 0},
          is_join_table = ${t.isJoin ? 1 : 0}, default_order = ${d.DefaultOrder}, icon = ${d.Icon || "fa-star"},
          permission = ${d.Permission || have.permission}, updated_at = ${ts}, version = version + 1
        WHERE id = ${have.id}`);
      changes.push({ table: t.name, kind: "update" });
    }
  }
  if (staged.size > 0) {
    db.run(sql.raw(`INSERT INTO main.world (${WORLD_COLUMNS}) SELECT ${WORLD_COLUMNS} FROM temp.staged_world`));
    db.run(sql.raw("DELETE FROM temp.staged_world"));
    for (const t of staged) changes.push({ table: t, kind: "insert" });
  }
  syncAccessGroups(db, registry);
  return changes;
}

/** The schema hash (`_config` schema.hash) of world rows: sha1 of their JSON in table-name order. */
export function schemaHashOf(rows: { table: string; json: string }[]): string {
  const h = createHash("sha1");
  for (const r of [...rows].sort((a, b) => (a.table < b.table ? -1 : a.table > b.table ? 1 : 0))) h.update(r.json);
  return h.digest("hex");
}

/** Table-level group grants from `AccessGroups` (upsert, never delete). */
function syncAccessGroups(db: SqlDb, registry: Registry): void {
  for (const t of registry.tables.values()) {
    if (!t.def.AccessGroups?.length) continue;
    const world = db.get<{ id: number }>(sql`SELECT id FROM world WHERE table_name = ${t.name}`)!;
    grantGroups(db, "world", world.id, t.def.AccessGroups, `table ${t.name}`);
  }
}

/**
 * `AccessGroups` grants on one `world` or `action` row: the join row's permission is set, or the row added (never
 * deleted). `owner` names the definition in the error for an unknown group.
 */
export function grantGroups(db: SqlDb, kind: "world" | "action", rowId: number, groups: { Name: string; Permission?: number }[], owner: string): void {
  const join = sql.identifier(`${kind}_${kind}_id_has_usergroup_usergroup_id`);
  const fk = sql.identifier(`${kind}_id`);
  const ts = now();
  for (const g of groups) {
    const group = db.get<{ id: number }>(sql`SELECT id FROM usergroup WHERE name = ${g.Name}`);
    if (!group) throw schemaError("Invalid schema", `${owner}: AccessGroups names unknown group "${g.Name}" (declare it under UserGroups, or create it first)`);
    const perm = g.Permission ?? DEFAULT_PERMISSION;
    const r = db.run(sql`UPDATE ${join} SET permission = ${perm}, updated_at = ${ts} WHERE ${fk} = ${rowId} AND usergroup_id = ${group.id}`);
    if (r.changes === 0) {
      db.run(sql`INSERT INTO ${join} (${fk}, usergroup_id, permission, reference_id, version, created_at, updated_at)
        VALUES (${rowId}, ${group.id}, ${perm}, ${uuidToBytes(newReferenceId())}, 1, ${ts}, ${ts})`);
    }
  }
}

/** Settings created at first start; secrets are random and never leave the server. */
export function seedConfig(config: ConfigStore): void {
  config.ensure("hostname", () => hostname());
  config.ensure("gzip.enable", () => "true");
  config.ensure("limit.max_connections", () => "100");
  config.ensure("limit.rate", () => JSON.stringify({ version: "1", limits: {} }));
  // Present (as "all defaults" and "no proxy") so that changing them is an UPDATE, like every other setting.
  config.ensure(THROTTLE_CONFIG_KEY, () => "{}");
  config.ensure(TRUSTED_PROXIES_KEY, () => "[]");
  config.ensure("graphql.enable", () => "false");
  config.ensure("jwt.secret", () => randomBytes(32).toString("hex"));
  config.ensure("encryption.secret", () => randomBytes(16).toString("hex"));
  config.ensure("jwt.token.issuer", () => `daptin-${randomBytes(3).toString("hex")}`);
  config.ensure("jwt.token.life.hours", () => "72");
}
