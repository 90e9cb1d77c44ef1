// Create, read, update, delete and list through the one permission gate. Every write is one transaction.
import { sql, type SQL } from "drizzle-orm";
import type { SqlDb } from "../db/dialect.ts";
import { badRequest, conflict, DaptinError, forbidden, notFound, validation } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import { parsePermission, PermissionSyntaxError, type Operation } from "../permission/bits.ts";
import { can } from "../permission/check.ts";
import { rowInstance, type TablePermissions } from "../permission/instances.ts";
import { READ_FILTER_COLUMNS, readFilter, sharingTable } from "../permission/sql-filter.ts";
import { hashAll, type JsonValue, kindOf, ReadyHashes, refuseStructured, toStored, ValueError } from "../schema/column-types/index.ts";
import type { ColumnInfo, Registry, TableInfo } from "../schema/registry.ts";
import { SERVER_MANAGED } from "../schema/standard.ts";
import { decodeSchema } from "../schema/parse.ts";
import { bytesToUuid, isUuid, newReferenceId, uuidToBytes } from "./ids.ts";
import { compileListCached, type ListParams } from "./list.ts";
import { ListCache } from "./list-cache.ts";
import { conform, firstViolation } from "./rules.ts";
import { type LinkItem, linkedTable, RelationService } from "./relations.ts";
import { INTERNAL_ID, joinAttributes, type Resource, selectedColumns, selectList, toResource, withJoinFacts } from "./resource.ts";

export interface WriteInput {
  /** A client-chosen id (JSON:API `data.id`); on create it becomes the reference id. */
  id?: unknown;
  attributes: Record<string, JsonValue>;
  /** JSON:API `relationships`: to-one `{data: {type, id} | null}`, to-many `{data: [...]}`. */
  relationships?: Record<string, unknown>;
}

/** Narrows a list to the rows linked to one parent row (used by `/api/{t}/{id}/{relation}`). */
export interface ListScope {
  where?: SQL;
  /** `linkRows`: list the join rows themselves (Daptin's sharing listings; see `withJoinFacts`). */
  join?: { table: string; selfColumn: string; otherColumn: string; parentId: number; extraColumns: ColumnInfo[]; linkRows?: boolean };
  defaultPageSize?: number;
}

export interface ListResult {
  resources: Resource[];
  total: number;
  page: number;
  size: number;
  /** Rows before this page (`page[offset]`, or `(page - 1) * size`). */
  offset: number;
}

export interface DataContext {
  db: SqlDb;
  registry(): Registry;
  tablePermissions: TablePermissions;
  /** Permission for new rows of a table whose schema gives none (2097151 before lock-down, 561441 after). */
  defaultRowPermission(): number;
  /** The key of `encrypted` columns (`_config` encryption.secret). */
  encryptionSecret(): string | undefined;
  /** Called after a write commits (the event bus hooks in here). */
  afterCommit(event: WriteEvent): void;
  /** A table definition written to `world.world_schema_json`, validated as the schema rules want (a 422 otherwise). */
  checkDefinition(value: JsonValue): JsonValue;
  /**
   * A write to a `world` row (`rowId` for an update or delete): refused when it would leave the engine's record of
   * a table it serves wrong (a delete, a new table_name, a definition of another table).
   */
  checkWorldRow(op: WriteEvent["type"], attributes: Record<string, JsonValue>, rowId?: number): void;
}

/** A committed write: what it changed, as precisely as the writer knows. */
export interface WriteEvent {
  type: "create" | "update" | "delete";
  table: string;
  /** Reference id of the row written. */
  id: string;
  /** Update: the columns it changed (absent: unknown, anything may have changed). */
  columns?: string[];
  /** Other tables whose rows the write changed (join rows, linked children, sharing rows of a new row). */
  also?: string[];
}

interface StoredRow {
  id: number;
  version: number;
  permission: number;
  user_account_id?: number | null;
  [k: string]: unknown;
}

const now = () => new Date().toISOString();


export class DataService {
  readonly relations: RelationService;
  /** List totals and page bookmarks per table and view. */
  private readonly lists = new ListCache();

  constructor(private readonly ctx: DataContext) {
    this.relations = new RelationService(ctx, this);
  }

  /** After a commit: remembered list totals and bookmarks follow the change, then the listeners hear of it. */
  committed(event: WriteEvent): void {
    if (event.type === "delete") {
      // A delete may cascade (join rows, cleared links) into other tables: forget theirs too.
      for (const t of this.ctx.registry().deleteReaches(event.table)) this.lists.forget(t);
    } else if (this.ctx.registry().get(event.table)?.isJoin) {
      // A join row is a link, written here as a relationship route writes it: a sharing row changes who sees the
      // shared row, so that table's totals go with the join table's (as for links written through a route).
      this.lists.forget(event.table);
    } else if (event.type === "create") this.lists.inserted(event.table);
    else if (event.columns) this.lists.updated(event.table, event.columns);
    else this.lists.forget(event.table);
    // Rows written elsewhere: a new row's own sharing rows change no other row's visibility, so its table stays.
    for (const t of event.also ?? []) this.lists.forget(t, event.type !== "create");
    this.ctx.afterCommit(event);
  }

  /** The table-level gate: `op` on the table's `world` row. */
  allowedOnTable(who: Identity, op: Operation, table: TableInfo): boolean {
    if (who.isAdmin) return true;
    const inst = this.ctx.tablePermissions.of(table.name);
    return inst !== null && can(who, op, inst);
  }

  canPeek(who: Identity, table: TableInfo): boolean {
    return this.allowedOnTable(who, "peek", table);
  }

  /** A change to a row's links is a change to the row: new version and updated_at. */
  touch(table: TableInfo, rowId: number): void {
    this.ctx.db.run(sql`UPDATE ${sql.identifier(table.name)} SET updated_at = ${now()}, version = version + 1 WHERE id = ${rowId}`);
  }

  table(name: string): TableInfo {
    const t = this.ctx.registry().get(name);
    if (!t) throw notFound("Unknown table", `there is no table named "${name}"`);
    return t;
  }

  gateTable(who: Identity, op: Operation, table: TableInfo): void {
    if (!this.allowedOnTable(who, op, table)) throw forbidden("TableAccessPermissionChecker", `you may not ${op} table ${table.name}`);
  }

  gateRow(who: Identity, op: Operation, table: TableInfo, row: Pick<StoredRow, "id" | "permission" | "user_account_id">): void {
    if (who.isAdmin) return;
    if (!can(who, op, rowInstance(this.ctx.db, table, row, this.ctx.registry()))) {
      throw forbidden("ObjectAccessPermissionChecker", `you may not ${op} this ${table.name}`);
    }
  }

  /**
   * Only administrators give a row to someone else or take it from its owner: for everyone else the owner stays what
   * it is (on create: the caller, nobody for guests). Naming that same owner is harmless. `current` is the owner's id.
   */
  gateOwnerChange(who: Identity, table: TableInfo, current: number | null, next: number | null): void {
    if (who.isAdmin || !table.hasOwner || next === current) return;
    throw forbidden("ObjectAccessPermissionChecker", `only an administrator may give a ${table.name} another owner (user_account_id)`);
  }

  /** The owner gate for an owner value given as an attribute or relationship (a reference id, or null). */
  private gateOwner(who: Identity, table: TableInfo, refs: Map<ColumnInfo, JsonValue>, current: number | null): void {
    const c = table.column.get("user_account_id");
    if (who.isAdmin || !table.hasOwner || !c || !refs.has(c)) return;
    const v = refs.get(c);
    const next = v === null || v === "" ? null : isUuid(v) ? (this.findRow(this.table("user_account"), v)?.id ?? -1) : -1;
    this.gateOwnerChange(who, table, current, next);
  }

  /** A join row's subject side: the table whose relation it stores, and its column (`note_id` of a sharing row). */
  private linkSubject(table: TableInfo): { table: TableInfo; column: ColumnInfo } | undefined {
    if (!table.isJoin) return undefined;
    const def = table.relations.values().next().value?.def;
    if (!def) return undefined;
    return { table: this.table(def.Subject), column: table.column.get(def.SubjectName)! };
  }

  /**
   * A join row is a link of its subject row (a sharing row shares the row, a membership row changes the account):
   * writing one directly needs `update` on that row, as linking through the subject's relationship route does.
   * `before` is the stored join row (update, delete); `refs` the subject given now (create, update).
   */
  private gateLinkSubject(who: Identity, table: TableInfo, refs: Map<ColumnInfo, JsonValue>, before?: Record<string, unknown>): void {
    if (who.isAdmin) return;
    const link = this.linkSubject(table);
    if (!link) return;
    const subjects: StoredRow[] = [];
    const given = refs.get(link.column);
    if (typeof given === "string" && isUuid(given)) {
      const row = this.findRow(link.table, given);
      if (row) subjects.push(row);
    }
    const current = before?.[link.column.ColumnName];
    if (typeof current === "number") {
      const row = this.rowById(link.table, current);
      if (row) subjects.push(row);
    }
    for (const row of subjects) this.gateRow(who, "update", link.table, row);
  }

  /** The row with this reference id (id, version, permission, owner), or undefined. */
  findRow(table: TableInfo, id: string): StoredRow | undefined {
    return this.gateFacts(table, "reference_id", uuidToBytes(id));
  }

  /** The row with this internal id (id, version, permission, owner), or undefined. */
  private rowById(table: TableInfo, id: number): StoredRow | undefined {
    return this.gateFacts(table, "id", id);
  }

  private gateFacts(table: TableInfo, key: "id" | "reference_id", value: unknown): StoredRow | undefined {
    return this.ctx.db
      .prepare(`row:${key}:${table.name}`, () => {
        const owner = table.hasOwner ? sql`, user_account_id` : sql``;
        return sql`SELECT id, version, permission${owner} FROM ${sql.identifier(table.name)} WHERE ${sql.identifier(key)} = ${sql.placeholder("v")}`;
      })
      .get<StoredRow>({ v: value });
  }

  loadRow(table: TableInfo, id: string): StoredRow {
    const row = this.findRow(table, checkedId(id));
    if (!row) throw notFound("Not found", `there is no ${table.name} with id ${id}`);
    return row;
  }

  /**
   * The row with reference id `id` as `select` (over alias `t`) reads it: a 400 when `id` is not a UUID, a 404 when
   * there is no such row. `shape` names the select in the prepared-statement key.
   */
  private rowByRef<T>(table: TableInfo, id: string, shape: string, select: () => SQL): T {
    const row = this.ctx.db
      .prepare(`${shape}:${table.name}`, () => sql`SELECT ${select()} FROM ${sql.identifier(table.name)} t WHERE t.reference_id = ${sql.placeholder("ref")}`)
      .get<T>({ ref: uuidToBytes(checkedId(id)) });
    if (!row) throw notFound("Not found", `there is no ${table.name} with id ${id}`);
    return row;
  }

  /** Reads one row as a resource, with no permission check (callers have checked). */
  readResource(table: TableInfo, internalId: number, fields?: string[], withRelationships = true): Resource {
    const cols = selectedColumns(table, fields);
    const row = this.ctx.db
      .prepare(`read:${table.name}:${fields?.join(",") ?? "*"}`, () => sql`SELECT ${selectList(cols)} FROM ${sql.identifier(table.name)} t WHERE t.id = ${sql.placeholder("id")}`)
      .get<Record<string, unknown>>({ id: internalId });
    if (!row) throw notFound("Not found", `the ${table.name} was deleted meanwhile`);
    return toResource(table, cols, row, withRelationships);
  }

  /** Columns hidden from the API that are definitions, not secrets (e.g. `action.action_schema`), for action subjects. */
  hiddenDefinitions(table: TableInfo, rowId: number): Record<string, JsonValue> {
    const cols = table.columns.filter(isHiddenDefinition);
    if (cols.length === 0) return {};
    const row = this.ctx.db
      .prepare(`hidden:${table.name}`, () => sql`SELECT ${sql.join(cols.map((c) => sql.identifier(c.ColumnName)), sql`, `)} FROM ${sql.identifier(table.name)} WHERE id = ${sql.placeholder("id")}`)
      .get<Record<string, unknown>>({ id: rowId });
    return Object.fromEntries(cols.map((c) => [c.ColumnName, c.family.fromDb(row?.[c.ColumnName], c)]));
  }

  /** Empties a table (its join rows go with it); for imports that replace a table's content. */
  truncate(table: TableInfo): void {
    this.ctx.db.run(sql`DELETE FROM ${sql.identifier(table.name)}`);
  }

  /** Up to `limit` reference ids of random rows (for fake data that must point at existing rows). */
  randomReferenceIds(table: TableInfo, limit: number): string[] {
    return this.ctx.db
      .prepare(`random:${table.name}`, () => sql`SELECT reference_id AS r FROM ${sql.identifier(table.name)} ORDER BY random() LIMIT ${sql.placeholder("n")}`)
      .all<{ r: Uint8Array }>({ n: limit })
      .map((x) => bytesToUuid(x.r)!);
  }

  /** Forgets remembered list totals and bookmarks: of one table (and what its sharing rows affect), or all. */
  forgetLists(table?: string): void {
    this.lists.forget(table);
  }

  /**
   * Lists rows the caller may read. `scope` narrows to rows related to one parent (relation listings).
   * A page runs as a prepared statement per shape. Totals are remembered per table and view and kept exact as the
   * table changes (rows inserted since are counted by id range; see list-cache.ts), so `total` costs no count over
   * the table per request; bookmarks let a deep page start from a known row instead of walking OFFSET rows.
   */
  list(who: Identity, tableName: string, params: ListParams, scope?: ListScope): ListResult {
    const table = this.table(tableName);
    for (const name of Object.keys(params.relationFilters ?? {})) {
      if (!table.relations.has(name)) throw badRequest("Invalid parameter", `table ${table.name} has no relation "${name}"`, { parameter: name });
    }
    const q = compileListCached(table, params, scope?.defaultPageSize);
    this.gateTable(who, "peek", table);
    const perm = readFilter(who, table, this.ctx.registry());
    const cols = selectedColumns(table, q.fields);
    const offset = q.offset;
    const values: Record<string, unknown> = { ...q.binder.values, ...perm?.values, offset };
    // Filters that read other tables (relation filters through joins) cannot follow their changes: counted each time.
    // A cursor page (page[after]) is no slice of the view at an offset: no remembered total or bookmarks for it.
    const view = scope || q.binder.readsOtherTables || q.cursor
      ? undefined
      : this.lists.view(table.name, viewKey(params, perm), () => new Set([...q.binder.columns, ...READ_FILTER_COLUMNS]));
    const keys = view ? keysetOf(table, q.sort, cols) : undefined;
    const order = keys ? `${keys.desc ? "-" : ""}${keys.column ?? "id"}` : "";
    const mark = keys && offset > 0 ? view!.nearest(order, offset) : undefined;
    if (mark) {
      values.offset = offset - mark.position;
      values.bid = mark.id;
      if (keys!.column) values.bv = mark.value;
    }
    // `extra`: one more condition (the id range of a catch-up count); `fromMark`: rows from the bookmark on (pages only).
    const build = (extra?: SQL, fromMark = false) => {
      const where = [...q.where, ...(perm ? [perm.sql()] : []), ...(scope?.where ? [scope.where] : []), ...(extra ? [extra] : [])];
      if (fromMark) where.push(keysetCondition(keys!));
      const join = scope?.join;
      const joinSql = join
        ? sql` JOIN ${sql.identifier(join.table)} j ON j.${sql.identifier(join.otherColumn)} = t.id AND j.${sql.identifier(join.selfColumn)} = ${join.parentId}`
        : sql``;
      const fromWhere = (conds: SQL[]) => sql`FROM ${sql.identifier(table.name)} t${joinSql}${conds.length ? sql` WHERE ${sql.join(conds, sql` AND `)}` : sql``}`;
      const from = fromWhere(where);
      const extraCols = join ? sql`, ${joinAttributes(join.extraColumns)}` : sql``;
      return {
        // The page size is a literal (a validated integer, part of the shape): SQLite runs `LIMIT ?` about half as
        // fast as `LIMIT 10` when the select list has correlated subqueries (measured: 20 vs 10 us per page).
        // A cursor narrows the rows, not the count (Daptin's total ignores it).
        rows: sql`SELECT ${selectList(cols)}${extraCols} ${q.cursor ? fromWhere([...where, q.cursor]) : from} ORDER BY ${q.orderBy()} LIMIT ${sql.raw(String(q.size))} OFFSET ${sql.placeholder("offset")}`,
        count: sql`SELECT count(*) AS n ${from}`,
      };
    };
    let rows: Record<string, unknown>[];
    let total: number;
    if (!scope) {
      const shape = `${table.name}|${q.binder.shape.join("|")}|${perm?.shape ?? "all"}`;
      const page = () => this.ctx.db.prepare(`list:${shape}|${q.size}${mark ? "|from" : ""}`, () => build(undefined, mark !== undefined).rows).all(values);
      const count = (key: string, extra?: SQL, more?: Record<string, unknown>) =>
        this.ctx.db.prepare(`${key}:${shape}`, () => build(extra).count).get<{ n: number }>({ ...values, ...more })!.n;
      if (view) {
        const epoch = this.lists.epoch(table.name);
        if (view.total === undefined || view.epoch !== epoch) {
          const upTo = this.maxRowId(table);
          if (view.total === undefined) view.total = count("count");
          else {
            const added = count("count-since", sql`t.id > ${sql.placeholder("since")} AND t.id <= ${sql.placeholder("upTo")}`, { since: view.upTo, upTo });
            view.total += added;
            view.caughtUp(view.epoch, epoch, added);
          }
          view.upTo = upTo;
          view.epoch = epoch;
        }
        total = view.total;
        // The total is exact: a page past the end is empty without walking OFFSET rows to find out.
        rows = offset >= total ? [] : page();
        if (keys && rows.length > 0) {
          const at = (position: number, row: Record<string, unknown>) =>
            view.mark(order, { position, id: row[INTERNAL_ID] as number, ...(keys.column ? { value: row[keys.column] } : {}) });
          at(offset, rows[0]!);
          at(offset + rows.length - 1, rows[rows.length - 1]!);
        }
      } else {
        rows = page();
        total = count("count");
      }
    } else {
      const built = build();
      rows = this.ctx.db.all<Record<string, unknown>>(built.rows, values);
      total = this.ctx.db.get<{ n: number }>(built.count, values)!.n;
    }
    const resources = rows.map((r) => {
      const res = toResource(table, cols, r);
      if (scope?.join) withJoinFacts(res, scope.join, r);
      return res;
    });
    return { resources, total, page: q.page, size: q.size, offset };
  }

  /** The highest row id of a table (0 when empty): totals remembered up to it count later rows by id range. */
  private maxRowId(table: TableInfo): number {
    return this.ctx.db.prepare(`maxid:${table.name}`, () => sql`SELECT coalesce(max(id), 0) AS m FROM ${sql.identifier(table.name)}`).get<{ m: number }>()!.m;
  }

  /** One statement reads the row with its permission facts; the gate runs on them before anything is returned. */
  get(who: Identity, tableName: string, id: string, fields?: string[]): Resource {
    const table = this.table(tableName);
    this.gateTable(who, "peek", table);
    const cols = selectedColumns(table, fields);
    const row = this.rowByRef<Record<string, unknown>>(table, id, `get:${fields?.join(",") ?? "*"}`, () => {
      const owner = table.hasOwner ? sql`, t.user_account_id AS "__owner"` : sql``;
      return sql`${selectList(cols)}, t.permission AS "__permission"${owner}`;
    });
    this.gateRow(who, "read", table, { id: row[INTERNAL_ID] as number, permission: row.__permission as number, user_account_id: row.__owner as number | null });
    if (fields) for (const f of fields) if (!table.apiColumns.some((c) => c.ColumnName === f)) {
      throw badRequest("Invalid parameter", `table ${table.name} has no column "${f}"`, { parameter: `fields[${table.name}]` });
    }
    return toResource(table, cols, row);
  }

  /** Which attributes a client may write: declared columns, plus permission and the owner on update. */
  private writable(table: TableInfo, name: string, mode: "create" | "update"): ColumnInfo | undefined {
    const c = table.column.get(name);
    if (!c || SERVER_MANAGED.has(name)) return undefined;
    // Hidden columns are never read back; definitions such as `action.action_schema` may still be written,
    // secrets (encrypted, hashed) may not.
    if (c.ExcludeFromApi && !isHiddenDefinition(c)) return undefined;
    if (mode === "create" && name === "permission") return undefined;
    // Ignored on create, as in Daptin: action outcomes create rows with raised rights from attributes a client
    // may have chosen, and must not hand the row to someone else. An administrator names an owner through
    // `relationships.user_account_id`, or changes it later.
    if (mode === "create" && name === "user_account_id" && table.hasOwner) return undefined;
    return c;
  }

  /**
   * Attribute values -> column values, before the transaction (FKs are resolved inside it). Asynchronous writes get
   * hashed values as promises, which `settle` awaits before the write transaction opens. `sync` writes (inside a
   * caller's transaction) take password hashes from `hashes`, made ahead by `hashAhead`, and hash on this thread
   * only what was not made ahead.
   */
  private convert(table: TableInfo, attrs: Record<string, JsonValue>, mode: "create" | "update", sync: boolean, hashes?: ReadyHashes) {
    const values = new Map<ColumnInfo, unknown>();
    const refs = new Map<ColumnInfo, JsonValue>();
    const conformed: Record<string, JsonValue> = {};
    for (const [k, raw] of Object.entries(attrs)) {
      const c = this.writable(table, k, mode);
      if (!c) continue;
      try {
        if (k !== "permission" && !c.references) refuseStructured(c.family, raw, c);
      } catch (e) {
        throw valueError(e, k);
      }
      conformed[k] = this.conformed(table, k, raw);
    }
    if (table.name === "action" && "action_schema" in conformed) conformed.action_schema = checkActionSchema(conformed.action_schema!);
    if (table.name === "world" && "world_schema_json" in conformed) conformed.world_schema_json = this.ctx.checkDefinition(conformed.world_schema_json!);
    const broken = firstViolation(table.def.Validations, conformed);
    if (broken) throw validation("Validation failed", broken.message, { pointer: `/data/attributes/${broken.column}` });
    for (const [k, v] of Object.entries(conformed)) {
      const c = table.column.get(k)!;
      if (c.references) {
        refs.set(c, v);
        continue;
      }
      if (v === null && !c.IsNullable && !(c.ColumnName === "permission")) {
        throw validation("Validation failed", `${k} cannot be null`, { pointer: `/data/attributes/${k}` });
      }
      try {
        const ctx = { encryptionSecret: this.ctx.encryptionSecret(), hashes };
        const converted = k === "permission" ? permissionValue(v) : toStored(c.family, v, c, ctx, sync);
        if (converted instanceof Promise) {
          const hashed = converted.catch((e) => Promise.reject(valueError(e, k)));
          // Marked as handled: an error thrown before `settle` awaits it (a missing or later attribute, a gate, an
          // earlier hash that failed) would otherwise leave its rejection unobserved. Awaited, it still throws.
          hashed.catch(() => {});
          values.set(c, hashed);
        } else values.set(c, converted);
      } catch (e) {
        throw valueError(e, k);
      }
    }
    return { values, refs };
  }

  private conformed(table: TableInfo, column: string, raw: JsonValue): JsonValue {
    const rule = table.def.Conformations?.find((r) => r.ColumnName === column);
    return rule ? conform(rule.Tags, raw) : raw;
  }

  /**
   * Hashes, on worker threads, the passwords that synchronous writes of these rows (`createSync`/`updateSync` with
   * the result, inside one transaction) will store, so that no bcrypt runs on the event loop or while the
   * transaction is open. `shared`: one hash per distinct password serves every row (generated data); otherwise each
   * row gets its own salt.
   */
  async hashAhead(tableName: string, rows: Record<string, JsonValue>[], opts: { shared?: boolean; into?: ReadyHashes } = {}): Promise<ReadyHashes> {
    const table = this.table(tableName);
    const hashes = opts.into ?? new ReadyHashes();
    const columns = table.columns.filter((c) => c.family.name === "password" && this.writable(table, c.ColumnName, "update"));
    const jobs: (() => Promise<void>)[] = [];
    for (const row of rows) {
      for (const c of columns) {
        const v = row[c.ColumnName];
        if (v !== undefined) jobs.push(() => hashes.add(this.conformed(table, c.ColumnName, v), c, opts));
      }
    }
    await hashAll(jobs);
    return hashes;
  }

  /** One value as its column stores it, without rules (a link's own columns); a 422 naming the attribute otherwise. */
  storedValue(c: ColumnInfo, v: JsonValue): unknown {
    try {
      refuseStructured(c.family, v, c);
      return toStored(c.family, v, c, { encryptionSecret: this.ctx.encryptionSecret() }, true);
    } catch (e) {
      throw valueError(e, c.ColumnName);
    }
  }

  /** A reference id -> the target's internal id, checking `refer` on the target for non-admins. */
  resolveRef(who: Identity, c: ColumnInfo, value: JsonValue): number | null {
    if (value === null || value === "") {
      if (!c.IsNullable) throw validation("Validation failed", `${c.ColumnName} is required`, { pointer: `/data/attributes/${c.ColumnName}` });
      return null;
    }
    const target = this.table(c.references!.table);
    if (!isUuid(value)) {
      throw validation("Validation failed", `${c.ColumnName} must be the id (UUID) of a ${target.name}`, { pointer: `/data/attributes/${c.ColumnName}` });
    }
    const row = this.findRow(target, value);
    if (!row) throw validation("Validation failed", `${c.ColumnName}: there is no ${target.name} with id ${value}`, { pointer: `/data/attributes/${c.ColumnName}` });
    if (!who.isAdmin && !can(who, "refer", rowInstance(this.ctx.db, target, row, this.ctx.registry()))) {
      throw forbidden("Refer not allowed", `you may not refer to ${target.name} ${value}`);
    }
    return row.id;
  }

  /** Relationship members: to-one ones become FK values (null clears), to-many ones are links added after the row. */
  private splitRelationships(table: TableInfo, rels: Record<string, unknown> | undefined) {
    const toOne = new Map<ColumnInfo, JsonValue>();
    const toMany: { name: string; items: LinkItem[] }[] = [];
    for (const [name, member] of Object.entries(rels ?? {})) {
      const rel = table.relations.get(name);
      const pointer = `/data/relationships/${name}`;
      if (!rel) throw badRequest("Invalid relationship", `table ${table.name} has no relation "${name}"`, { pointer });
      if (member === null || typeof member !== "object" || !("data" in member)) {
        throw badRequest("Invalid relationship", `relationships.${name} must be an object with "data"`, { pointer });
      }
      const data = (member as { data: unknown }).data;
      if (rel.storage.kind === "fk_here") {
        if (data === null) {
          toOne.set(table.column.get(rel.storage.column)!, null);
          continue;
        }
        const id = (data as { id?: unknown })?.id;
        if (typeof id !== "string" || Array.isArray(data)) throw badRequest("Invalid relationship", `relationships.${name}.data must be {type, id} or null`, { pointer });
        toOne.set(table.column.get(rel.storage.column)!, id);
      } else {
        if (!Array.isArray(data)) throw badRequest("Invalid relationship", `relationships.${name}.data must be a list`, { pointer });
        toMany.push({ name, items: linkItems(data, pointer) });
      }
    }
    return { toOne, toMany };
  }

  defaultPermission(table: TableInfo): number {
    return table.def.DefaultPermission || this.ctx.defaultRowPermission();
  }

  translateConstraint(table: TableInfo, e: unknown): never {
    const c = this.ctx.db.constraintOf(e);
    if (!c) throw e;
    const cols = c.detail.replace(/^.*failed: /, "").split(",").map((s) => s.trim().replace(`${table.name}.`, ""));
    if (c.kind === "unique") throw conflict("Conflict", `a ${table.name} with the same ${cols.join(", ")} already exists`, { pointer: `/data/attributes/${cols[0]}` });
    if (c.kind === "not_null") throw validation("Validation failed", `${cols.join(", ")} is required`, { pointer: `/data/attributes/${cols[0]}` });
    if (c.kind === "foreign_key") throw conflict("Conflict", "the change would leave a reference to a row that does not exist");
    throw validation("Validation failed", c.detail);
  }

  async create(who: Identity, tableName: string, input: WriteInput): Promise<Resource> {
    const p = this.prepareCreate(who, tableName, input, false);
    await settle(p.values);
    return this.finishCreate(who, p);
  }

  /**
   * Create without awaiting, inside a caller's synchronous transaction (action outcomes, imports). Passwords come
   * from `hashes` (see `hashAhead`); one that was not hashed ahead is hashed on this thread.
   */
  createSync(who: Identity, tableName: string, input: WriteInput, hashes?: ReadyHashes): Resource {
    return this.finishCreate(who, this.prepareCreate(who, tableName, input, true, hashes), false);
  }

  private prepareCreate(who: Identity, tableName: string, input: WriteInput, sync: boolean, hashes?: ReadyHashes) {
    const table = this.table(tableName);
    this.gateTable(who, "create", table);
    if (table.name === "world") this.ctx.checkWorldRow("create", input.attributes);
    if (input.id !== undefined && input.id !== null && input.id !== "" && !isUuid(input.id)) {
      const got = typeof input.id === "string" ? `"${input.id.slice(0, 60)}"` : kindOf(input.id as JsonValue);
      throw badRequest("Invalid id", `a client-generated id must be a UUID, got ${got}`, { pointer: "/data/id" });
    }
    const rels = this.splitRelationships(table, input.relationships);
    const { values, refs } = this.convert(table, input.attributes, "create", sync, hashes);
    for (const [c, v] of rels.toOne) refs.set(c, v);
    this.gateOwner(who, table, refs, who.userId);
    this.gateLinkSubject(who, table, refs);
    // NOT NULL columns without a default must be given: say which, instead of a driver error.
    const missing = table.columns.filter(
      (c) => !c.IsNullable && c.DefaultValue === "" && !c.isStandard && !values.has(c) && !refs.has(c) &&
        !(c.ColumnName === "user_account_id" && table.hasOwner) && !(c.ExcludeFromApi),
    );
    const missingRequired = missing.filter((c) => !(c.DataType.trim().toLowerCase() === "timestamp"));
    if (missingRequired.length) {
      throw validation("Validation failed", `missing required attribute${missingRequired.length > 1 ? "s" : ""}: ${missingRequired.map((c) => c.ColumnName).join(", ")}`, {
        pointer: `/data/attributes/${missingRequired[0]!.ColumnName}`,
      });
    }
    const refId = isUuid(input.id) ? input.id.toLowerCase() : newReferenceId();
    return { table, values, refs, rels, refId };
  }

  private finishCreate(who: Identity, p: ReturnType<DataService["prepareCreate"]>, withRelationships = true): Resource {
    const { table, values, refs, rels, refId } = p;
    let rowId = 0;
    try {
      rowId = this.ctx.db.transaction(() => {
        const names: string[] = [];
        const vals: Record<string, unknown> = {};
        const put = (name: string, v: unknown) => {
          vals[`c${names.length}`] = v;
          names.push(name);
        };
        const ts = now();
        put("reference_id", uuidToBytes(refId));
        put("permission", this.defaultPermission(table));
        put("version", 1);
        put("created_at", ts);
        put("updated_at", ts);
        const owner = table.column.get("user_account_id");
        if (table.hasOwner && who.userId !== null && !refs.has(owner!)) put("user_account_id", who.userId);
        for (const [c, v] of values) put(c.ColumnName, v);
        for (const [c, v] of refs) put(c.ColumnName, this.resolveRef(who, c, v));
        const r = this.ctx.db
          .prepare(`insert:${table.name}:${names.join(",")}`, () =>
            sql`INSERT INTO ${sql.identifier(table.name)} (${sql.join(names.map((n) => sql.identifier(n)), sql`, `)}) VALUES (${sql.join(names.map((_, i) => sql.placeholder(`c${i}`)), sql`, `)})`,
          )
          .run(vals);
        const id = r.lastInsertRowid;
        // A user account owns itself.
        if (table.name === "user_account") this.ctx.db.run(sql`UPDATE user_account SET user_account_id = ${id} WHERE id = ${id}`);
        this.addDefaultGroups(table, id);
        this.relations.applyLinks(who, table, id, rels.toMany);
        return id;
      });
    } catch (e) {
      if (e instanceof DaptinError) throw e;
      this.translateConstraint(table, e);
    }
    const also = rels.toMany.map(({ name }) => linkedTable(table.relations.get(name)!));
    if ((table.def.DefaultGroups ?? []).length > 0) also.push(sharingTable(table.name));
    this.committed({ type: "create", table: table.name, id: refId, also });
    return this.readResource(table, rowId, undefined, withRelationships);
  }

  private addDefaultGroups(table: TableInfo, rowId: number): void {
    const groups = table.def.DefaultGroups ?? [];
    if (groups.length === 0) return;
    const share = this.ctx.registry().get(sharingTable(table.name));
    if (!share) return;
    for (const g of groups) {
      const group = this.ctx.db.get<{ id: number }>(sql`SELECT id FROM usergroup WHERE name = ${g.Name}`);
      if (!group) continue; // Daptin skips unknown group names too.
      this.ctx.db.run(sql`INSERT OR IGNORE INTO ${sql.identifier(share.name)} (${sql.identifier(`${table.name}_id`)}, usergroup_id, reference_id, permission, version, created_at, updated_at)
        VALUES (${rowId}, ${group.id}, ${uuidToBytes(newReferenceId())}, ${g.Permission ?? this.defaultPermission(share)}, 1, ${now()}, ${now()})`);
    }
  }

  async update(who: Identity, tableName: string, id: string, input: WriteInput): Promise<Resource> {
    const p = this.prepareUpdate(who, tableName, id, input, false);
    await settle(p.values);
    return this.finishUpdate(who, p);
  }

  /** Update without awaiting, inside a caller's synchronous transaction; passwords as for `createSync`. */
  updateSync(who: Identity, tableName: string, id: string, input: WriteInput, hashes?: ReadyHashes): Resource {
    return this.finishUpdate(who, this.prepareUpdate(who, tableName, id, input, true, hashes), false);
  }

  private prepareUpdate(who: Identity, tableName: string, id: string, input: WriteInput, sync: boolean, hashes?: ReadyHashes) {
    const table = this.table(tableName);
    this.gateTable(who, "update", table);
    // The whole stored row: its permission facts for the gate, its values for change detection.
    const before = this.rowByRef<StoredRow>(table, id, "stored", () => sql`t.*`);
    this.gateRow(who, "update", table, before);
    if (table.name === "world") this.ctx.checkWorldRow("update", input.attributes, before.id);
    if (input.id !== undefined && input.id !== null && input.id !== "" && (typeof input.id !== "string" || input.id.toLowerCase() !== id.toLowerCase())) {
      throw conflict("Conflict", "id in the resource does not match servers endpoint", { pointer: "/data/id" });
    }
    const sentVersion = input.attributes.version;
    if (sentVersion !== undefined && sentVersion !== null && typeof sentVersion !== "number" && typeof sentVersion !== "string") {
      throw validation("Validation failed", `version must be a number, not ${kindOf(sentVersion)}`, { pointer: "/data/attributes/version" });
    }
    if (sentVersion !== undefined && sentVersion !== null && Number(sentVersion) !== before.version) {
      throw conflict("Version conflict", `the ${table.name} was changed meanwhile (your version ${sentVersion}, current ${before.version}); reload and retry`, {
        pointer: "/data/attributes/version",
      });
    }
    const rels = this.splitRelationships(table, input.relationships);
    const { values, refs } = this.convert(table, input.attributes, "update", sync, hashes);
    for (const [c, v] of rels.toOne) refs.set(c, v);
    const owner = table.hasOwner && typeof before.user_account_id === "number" ? before.user_account_id : null;
    this.gateOwner(who, table, refs, owner);
    const permission = [...values].find(([c]) => c.ColumnName === "permission")?.[1];
    // The owner decides who else may see a row: someone who may only edit it (a group, the guest bits) may not.
    if (permission !== undefined && permission !== before.permission && !who.isAdmin && owner !== null && owner !== who.userId) {
      throw forbidden("ObjectAccessPermissionChecker", `only the owner of this ${table.name} or an administrator may change its permission`);
    }
    this.gateLinkSubject(who, table, refs, before);
    return { table, id, before, values, refs, rels };
  }

  private finishUpdate(who: Identity, p: ReturnType<DataService["prepareUpdate"]>, withRelationships = true): Resource {
    const { table, id, before, values, refs, rels } = p;
    let columns: string[] = [];
    // `before` was read ahead of any await (password hashing): a change made meanwhile fails the version check (409).
    try {
      this.ctx.db.transaction(() => {
        const changed = new Map<string, unknown>();
        for (const [c, v] of values) if (c.family.opaque || !sameValue(before[c.ColumnName], v)) changed.set(c.ColumnName, v);
        for (const [c, v] of refs) {
          const target = this.resolveRef(who, c, v);
          if (before[c.ColumnName] !== target) changed.set(c.ColumnName, target);
        }
        if (changed.size > 0) {
          const names = [...changed.keys()];
          // A new password makes every token issued before it stale.
          const bump = table.name === "user_account" && changed.has("password");
          const r = this.ctx.db
            .prepare(`update:${table.name}:${names.join(",")}`, () => {
              const sets = names.map((n, i) => sql`${sql.identifier(n)} = ${sql.placeholder(`c${i}`)}`);
              if (bump) sets.push(sql`auth_version = auth_version + 1`);
              sets.push(sql`updated_at = ${sql.placeholder("now")}`, sql`version = version + 1`);
              return sql`UPDATE ${sql.identifier(table.name)} SET ${sql.join(sets, sql`, `)} WHERE id = ${sql.placeholder("id")} AND version = ${sql.placeholder("version")}`;
            })
            .run({ ...Object.fromEntries(names.map((n, i) => [`c${i}`, changed.get(n)])), now: now(), id: before.id, version: before.version });
          if (r.changes === 0) throw conflict("Version conflict", `the ${table.name} was changed meanwhile; reload and retry`);
          columns = [...names, "updated_at", "version", ...(bump ? ["auth_version"] : [])];
        }
        this.relations.applyLinks(who, table, before.id, rels.toMany);
      });
    } catch (e) {
      if (e instanceof DaptinError) throw e;
      this.translateConstraint(table, e);
    }
    this.committed({ type: "update", table: table.name, id, columns, also: rels.toMany.map(({ name }) => linkedTable(table.relations.get(name)!)) });
    return this.readResource(table, before.id, undefined, withRelationships);
  }

  delete(who: Identity, tableName: string, id: string): void {
    const table = this.table(tableName);
    this.gateTable(who, "delete", table);
    // A join row is read whole: its subject column decides who may remove the link.
    const row = table.isJoin ? this.rowByRef<StoredRow>(table, id, "stored", () => sql`t.*`) : this.loadRow(table, id);
    this.gateRow(who, "delete", table, row);
    if (table.name === "world") this.ctx.checkWorldRow("delete", {}, row.id);
    this.gateLinkSubject(who, table, new Map(), row);
    const blockers = this.dependants(table, row.id);
    if (blockers.length > 0) {
      const total = blockers.reduce((n, b) => n + b.count, 0);
      throw conflict("Delete blocked", `${blockers.map((b) => `${b.count} ${b.table} row${b.count > 1 ? "s" : ""} (${b.column})`).join(", ")} still ${total > 1 ? "refer" : "refers"} to this ${table.name}`);
    }
    try {
      this.ctx.db.transaction(() => {
        this.ctx.db.prepare(`delete:${table.name}`, () => sql`DELETE FROM ${sql.identifier(table.name)} WHERE id = ${sql.placeholder("id")}`).run({ id: row.id });
      });
    } catch (e) {
      this.translateConstraint(table, e);
    }
    this.committed({ type: "delete", table: table.name, id });
  }

  /** Rows whose `restrict` relation points at this row: they block its delete (409 naming them). */
  private dependants(table: TableInfo, rowId: number): { table: string; column: string; count: number }[] {
    const out: { table: string; column: string; count: number }[] = [];
    for (const ref of this.ctx.registry().referencedBy.get(table.name) ?? []) {
      if (ref.onDelete !== "restrict") continue;
      const n = this.ctx.db
        .prepare(`dependants:${ref.table}.${ref.column}`, () => sql`SELECT count(*) AS n FROM ${sql.identifier(ref.table)} WHERE ${sql.identifier(ref.column)} = ${sql.placeholder("id")}`)
        .get<{ n: number }>({ id: rowId })!.n;
      if (n > 0) out.push({ table: ref.table, column: ref.column, count: n });
    }
    return out;
  }
}

/** An action definition written through `/api/action` must be one the engine can run (a 422 otherwise). */
function checkActionSchema(value: JsonValue): JsonValue {
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch {
      throw validation("Validation failed", "action_schema must be a JSON action definition", { pointer: "/data/attributes/action_schema" });
    }
  }
  try {
    const [def] = decodeSchema({ Actions: [parsed] }).doc.Actions;
    return JSON.stringify(def) as JsonValue;
  } catch (e) {
    throw validation("Validation failed", `action_schema: ${(e as Error).message}`, { pointer: "/data/attributes/action_schema" });
  }
}

/** A column hidden from the API that holds a definition, not a secret or a server counter (`action.action_schema`). */
function isHiddenDefinition(c: ColumnInfo): boolean {
  return c.ExcludeFromApi && !c.isStandard && !c.family.opaque && !SERVER_MANAGED.has(c.ColumnName);
}

function valueError(e: unknown, column: string): unknown {
  return e instanceof ValueError ? validation("Validation failed", e.message, { pointer: `/data/attributes/${column}` }) : e;
}

/** Awaits the hashed values `convert` left as promises. */
async function settle(values: Map<ColumnInfo, unknown>): Promise<void> {
  for (const [c, v] of values) if (v instanceof Promise) values.set(c, await v);
}

function permissionValue(v: JsonValue): number {
  try {
    return parsePermission(v);
  } catch (e) {
    if (e instanceof PermissionSyntaxError) throw new ValueError(`permission: ${e.message}`);
    throw e;
  }
}

function sameValue(stored: unknown, next: unknown): boolean {
  if (stored === next) return true;
  if (stored === null || next === null || stored === undefined) return false;
  return String(stored) === String(next);
}


/** JSON:API linkage items -> link items (`attributes` or `meta` may carry the join row's permission). */
export function linkItems(data: unknown[], pointer: string): LinkItem[] {
  return data.map((d, i) => {
    const item = d as { id?: unknown; attributes?: unknown; meta?: unknown };
    if (item === null || typeof item !== "object" || !isUuid(item.id)) {
      throw badRequest("Invalid relationship", `item ${i} needs an id (UUID)`, { pointer });
    }
    const attrs = (item.attributes ?? item.meta) as Record<string, JsonValue> | undefined;
    return { id: item.id, ...(attrs && typeof attrs === "object" ? { attributes: attrs } : {}) };
  });
}

/** `id` when it is a reference id (UUID); a 400 otherwise. */
function checkedId(id: string): string {
  if (!isUuid(id)) throw badRequest("Invalid id", `"${id}" is not a valid id (expected a UUID)`);
  return id;
}

/** Which rows a list selects, in words that do not depend on spelling: no `query` and an empty one are the same. */
function viewKey(p: ListParams, perm: { shape: string; values: Record<string, unknown> } | null): string {
  const text = (v?: string) => (v !== undefined && v.trim() !== "" ? v : undefined);
  const query = text(p.query);
  const relations = p.relationFilters && Object.keys(p.relationFilters).length > 0 ? p.relationFilters : undefined;
  const columns = p.columnFilters && Object.keys(p.columnFilters).length > 0 ? p.columnFilters : undefined;
  // As in compileList, `filter` only counts without a `query`.
  return JSON.stringify([query, query === undefined ? text(p.filter) : undefined, relations, columns, perm?.shape, perm?.values]);
}

/**
 * Whether a list's order allows bookmarks: by id alone, or by one non-null, selected, non-reference column with the
 * id as tie-breaker (its stored value is in the row, and (column, id) is a total order).
 */
function keysetOf(table: TableInfo, sort: { column: string; desc: boolean }[], cols: ColumnInfo[]): { column?: string; desc: boolean } | undefined {
  if (sort.length !== 1) return undefined;
  const { column, desc } = sort[0]!;
  if (column === "id") return { desc };
  const c = table.column.get(column);
  if (!c || c.IsNullable || c.references || !cols.includes(c)) return undefined;
  return { column, desc };
}

/** Rows from a bookmark on, in the list's order: `(column, id) >= (value, id)` (or `<=` descending). */
function keysetCondition(keys: { column?: string; desc: boolean }): SQL {
  const op = sql.raw(keys.desc ? "<=" : ">=");
  if (!keys.column) return sql`t.id ${op} ${sql.placeholder("bid")}`;
  return sql`(t.${sql.identifier(keys.column)}, t.id) ${op} (${sql.placeholder("bv")}, ${sql.placeholder("bid")})`;
}
