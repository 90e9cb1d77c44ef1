// Relations over the API (spec 20 section 4): related rows, linkage reads and writes, and includes.
// Every read applies the caller's read filter to the related table; every write needs `update` on the subject
// row and `refer` on each row linked to. Includes load one query per relation, never one per row.
import { sql, type SQL } from "drizzle-orm";
import { badRequest, conflict, DaptinError, notFound, validation } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import { parsePermission, PermissionSyntaxError } from "../permission/bits.ts";
import { readFilter, sharingTable } from "../permission/sql-filter.ts";
import type { JsonValue } from "../schema/column-types/index.ts";
import type { ColumnInfo, RelationInfo, TableInfo } from "../schema/registry.ts";
import type { DataContext, DataService, ListResult } from "./crud.ts";
import { isUuid, newReferenceId, uuidToBytes } from "./ids.ts";
import type { ListParams } from "./list.ts";
import { type Resource, type ResourceIdentifier, selectedColumns, selectList, toResource } from "./resource.ts";

/** Daptin lists related rows 1000 at a time unless the client pages. */
export const RELATED_PAGE_SIZE = 1000;
/** At most this many related rows per parent are included (newest link first), as in Daptin. */
export const INCLUDE_LIMIT = 50;

export interface LinkItem {
  id: string;
  /** Join-row columns to set: `permission` (symbolic allowed) and extra relation columns. */
  attributes?: Record<string, JsonValue>;
}

export type Linkage = ResourceIdentifier | null | ResourceIdentifier[];

const now = () => new Date().toISOString();

/** The table a to-many relation's links are written into: its join table, or the linked children's table. */
export function linkedTable(rel: RelationInfo): string {
  return rel.storage.kind === "join" ? rel.storage.table : rel.target;
}

/** The columns of a join table a listing through it adds to each row (the relation's own `Columns`). */
export function joinExtraColumns(join: TableInfo): ColumnInfo[] {
  return join.columns.filter((c) => !c.isStandard && !c.references && !c.ExcludeFromApi);
}

/** Whether a listing through `rel` lists the links themselves: the sharing relations, either side (`withJoinFacts`). */
export function listsLinkRows(table: TableInfo, rel: RelationInfo): boolean {
  return rel.storage.kind === "join" && (rel.storage.table === sharingTable(table.name) || rel.storage.table === sharingTable(rel.target));
}

export class RelationService {
  constructor(
    private readonly ctx: DataContext,
    private readonly data: DataService,
  ) {}

  relation(table: TableInfo, name: string): RelationInfo {
    const rel = table.relations.get(name);
    if (!rel) throw notFound("Unknown relation", `table ${table.name} has no relation "${name}"`);
    return rel;
  }

  /** The parent row, which the caller must be able to read. */
  private parent(who: Identity, table: TableInfo, id: string) {
    this.data.gateTable(who, "peek", table);
    const row = this.data.loadRow(table, id);
    this.data.gateRow(who, "read", table, row);
    return row;
  }

  /**
   * `GET /api/{t}/{id}/{rel}`: a to-one relation gives one resource or null, a to-many one a page. `linkRows`: the
   * sharing relations list their links as Daptin does (`withJoinFacts`); the linkage asks for the rows themselves.
   */
  related(who: Identity, tableName: string, id: string, relName: string, params: ListParams, linkRows = true): { one: Resource | null } | { many: ListResult } {
    const table = this.data.table(tableName);
    const rel = this.relation(table, relName);
    const parent = this.parent(who, table, id);
    const s = rel.storage;
    if (s.kind === "fk_here") {
      const fk = this.ctx.db.get<Record<string, number | null>>(sql`SELECT ${sql.identifier(s.column)} AS fk FROM ${sql.identifier(table.name)} WHERE id = ${parent.id}`)!.fk;
      if (fk === null) return { one: null };
      const page = this.data.list(who, rel.target, { ...params, pageNumber: undefined, pageOffset: undefined, pageLimit: undefined, pageAfter: undefined, pageBefore: undefined, pageSize: "1" }, { where: sql`t.id = ${fk}` });
      return { one: page.resources[0] ?? null };
    }
    if (s.kind === "fk_there") {
      const result = this.data.list(who, rel.target, params, { where: sql`t.${sql.identifier(s.column)} = ${parent.id}`, defaultPageSize: RELATED_PAGE_SIZE });
      return rel.toMany ? { many: result } : { one: result.resources[0] ?? null };
    }
    const extraColumns = joinExtraColumns(this.data.table(s.table));
    return {
      many: this.data.list(who, rel.target, params, {
        join: {
          table: s.table, selfColumn: s.selfColumn, otherColumn: s.otherColumn, parentId: parent.id, extraColumns,
          linkRows: linkRows && listsLinkRows(table, rel),
        },
        defaultPageSize: RELATED_PAGE_SIZE,
      }),
    };
  }

  /** `GET /api/{t}/{id}/relationships/{rel}`: the linkage, limited to rows the caller may read. */
  linkage(who: Identity, tableName: string, id: string, relName: string): Linkage {
    const result = this.related(who, tableName, id, relName, { pageSize: String(RELATED_PAGE_SIZE), fields: "reference_id" }, false);
    if ("one" in result) return result.one ? { type: result.one.type, id: result.one.id } : null;
    return result.many.resources.map((r) => ({ type: r.type, id: r.id }));
  }

  /**
   * Changes links. `mode`: add (POST, and PATCH of a to-many set as in Daptin), replace (PATCH of a to-one link, or
   * of a to-many set asked for with `meta.replace`), remove (DELETE). A to-one relation takes one item or null
   * (replace) or the item to unlink (remove). One transaction.
   */
  async write(who: Identity, tableName: string, id: string, relName: string, mode: "add" | "replace" | "remove", items: LinkItem[] | LinkItem | null): Promise<void> {
    const table = this.data.table(tableName);
    const rel = this.relation(table, relName);
    this.data.gateTable(who, "update", table);
    const parent = this.data.loadRow(table, id);
    this.data.gateRow(who, "update", table, parent);
    const s = rel.storage;
    if (s.kind === "fk_here") {
      if (Array.isArray(items)) throw badRequest("Invalid linkage", `${relName} is a to-one relation: data must be {type, id} or null`, { pointer: "/data" });
      if (mode === "add") throw badRequest("Invalid linkage", `${relName} is a to-one relation: use PATCH to set it`, { pointer: "/data" });
      const column = table.column.get(s.column)!;
      let value: string | null = items?.id ?? null;
      if (mode === "remove") {
        const current = this.linkage(who, tableName, id, relName) as ResourceIdentifier | null;
        if (!items || current?.id !== items.id) return; // unlinking something that is not linked: nothing to do
        value = null;
      }
      await this.data.update(who, tableName, id, { attributes: { [column.ColumnName]: value } });
      return;
    }
    const list = items === null ? [] : Array.isArray(items) ? items : [items];
    for (const it of list) if (!isUuid(it.id)) throw badRequest("Invalid linkage", "each item needs the id (UUID) of a row to link", { pointer: "/data" });
    try {
      this.ctx.db.transaction(() => {
        if (s.kind === "join") this.writeJoin(who, s, parent.id, mode, list);
        else this.writeChildren(who, rel, s.column, parent.id, mode, list);
        this.data.touch(table, parent.id);
      });
    } catch (e) {
      if (e instanceof DaptinError) throw e;
      this.data.translateConstraint(table, e);
    }
    // The parent was touched (updated_at, version); the links live in the join table or the children's table.
    this.data.committed({ type: "update", table: table.name, id, columns: ["updated_at", "version"], also: [linkedTable(rel)] });
  }

  /** Links given in a resource's `relationships` on create/update: to-many ones are added (as Daptin does). */
  applyLinks(who: Identity, table: TableInfo, rowId: number, links: { name: string; items: LinkItem[] }[]): void {
    for (const { name, items } of links) {
      const rel = this.relation(table, name);
      const s = rel.storage;
      if (s.kind === "join") this.writeJoin(who, s, rowId, "add", items);
      else if (s.kind === "fk_there") this.writeChildren(who, rel, s.column, rowId, "add", items);
    }
  }

  private writeJoin(who: Identity, s: { table: string; selfColumn: string; otherColumn: string }, parentId: number, mode: "add" | "replace" | "remove", items: LinkItem[]): void {
    const join = this.data.table(s.table);
    const target = join.column.get(s.otherColumn)!;
    const ids = items.map((it) => ({ it, rowId: this.data.resolveRef(who, target, it.id)! }));
    const J = sql.identifier(join.name);
    const self = sql.identifier(s.selfColumn);
    const other = sql.identifier(s.otherColumn);
    if (mode === "remove") {
      for (const { rowId } of ids) this.ctx.db.run(sql`DELETE FROM ${J} WHERE ${self} = ${parentId} AND ${other} = ${rowId}`);
      return;
    }
    if (mode === "replace") {
      const keep = ids.map((x) => x.rowId);
      const drop = keep.length ? sql` AND ${other} NOT IN (${sql.join(keep.map((k) => sql`${k}`), sql`, `)})` : sql``;
      this.ctx.db.run(sql`DELETE FROM ${J} WHERE ${self} = ${parentId}${drop}`);
    }
    for (const { it, rowId } of ids) {
      const extra = this.joinValues(join, it.attributes);
      const existing = this.ctx.db.get<{ id: number }>(sql`SELECT id FROM ${J} WHERE ${self} = ${parentId} AND ${other} = ${rowId}`);
      if (existing) {
        if (extra.length) {
          this.ctx.db.run(sql`UPDATE ${J} SET ${sql.join(extra.map(([c, v]) => sql`${sql.identifier(c)} = ${v}`), sql`, `)}, updated_at = ${now()}, version = version + 1 WHERE id = ${existing.id}`);
        }
        continue;
      }
      const cols: [string, unknown][] = [
        [s.selfColumn, parentId], [s.otherColumn, rowId], ["reference_id", uuidToBytes(newReferenceId())],
        ["permission", this.data.defaultPermission(join)], ["version", 1], ["created_at", now()], ["updated_at", now()],
      ];
      for (const [c, v] of extra) {
        const i = cols.findIndex(([k]) => k === c);
        if (i >= 0) cols[i] = [c, v];
        else cols.push([c, v]);
      }
      this.ctx.db.run(sql`INSERT INTO ${J} (${sql.join(cols.map(([c]) => sql`${sql.identifier(c)}`), sql`, `)}) VALUES (${sql.join(cols.map(([, v]) => sql`${v}`), sql`, `)})`);
    }
  }

  /** Extra join-row values from a linkage item: its sharing `permission` and declared relation columns. */
  private joinValues(join: TableInfo, attrs: Record<string, JsonValue> | undefined): [string, unknown][] {
    const out: [string, unknown][] = [];
    for (const [k, v] of Object.entries(attrs ?? {})) {
      if (k === "permission") {
        try {
          out.push(["permission", parsePermission(v)]);
        } catch (e) {
          if (e instanceof PermissionSyntaxError) throw validation("Validation failed", `permission: ${e.message}`, { pointer: "/data/attributes/permission" });
          throw e;
        }
        continue;
      }
      const c = join.column.get(k);
      if (!c || c.isStandard || c.references || c.family.opaque) continue;
      out.push([k, this.data.storedValue(c, v)]);
    }
    return out;
  }

  /** Reverse to-many (children holding the FK): link = set their FK to the parent, unlink = clear it. */
  private writeChildren(who: Identity, rel: RelationInfo, fkColumn: string, parentId: number, mode: "add" | "replace" | "remove", items: LinkItem[]): void {
    const child = this.data.table(rel.target);
    const fk = child.column.get(fkColumn)!;
    const C = sql.identifier(child.name);
    const F = sql.identifier(fkColumn);
    const load = (id: string) => {
      const row = this.data.loadRow(child, id);
      this.data.gateRow(who, "update", child, row);
      return row;
    };
    // Children held through their owner column change owner when linked or unlinked: the owner gate decides.
    const owned = child.hasOwner && fkColumn === "user_account_id";
    const unlink = (rowId: number) => {
      if (owned) this.data.gateOwnerChange(who, child, parentId, null);
      if (!fk.IsNullable) {
        throw conflict("Cannot unlink", `every ${child.name} must have a ${fkColumn}: link it elsewhere or delete it instead`);
      }
      this.ctx.db.run(sql`UPDATE ${C} SET ${F} = NULL, updated_at = ${now()}, version = version + 1 WHERE id = ${rowId}`);
    };
    if (mode === "remove") {
      for (const it of items) {
        const row = load(it.id);
        const linked = this.ctx.db.get<{ x: number }>(sql`SELECT 1 AS x FROM ${C} WHERE id = ${row.id} AND ${F} = ${parentId}`);
        if (linked) unlink(row.id);
      }
      return;
    }
    const rows = items.map((it) => load(it.id));
    if (mode === "replace") {
      const keep = rows.map((r) => r.id);
      const others = this.ctx.db.all<{ id: number }>(
        sql`SELECT id FROM ${C} WHERE ${F} = ${parentId}${keep.length ? sql` AND id NOT IN (${sql.join(keep.map((k) => sql`${k}`), sql`, `)})` : sql``}`,
      );
      for (const o of others) unlink(o.id);
    }
    for (const r of rows) {
      if (owned) this.data.gateOwnerChange(who, child, r.user_account_id ?? null, parentId);
      this.ctx.db.run(sql`UPDATE ${C} SET ${F} = ${parentId}, updated_at = ${now()}, version = version + 1 WHERE id = ${r.id} AND (${F} IS NULL OR ${F} != ${parentId})`);
    }
  }

  /** Which relations `included_relations` / `include` name: relation names, target table names, or `*`. */
  resolveIncludes(table: TableInfo, tokens: string[]): RelationInfo[] {
    const out = new Map<string, RelationInfo>();
    for (const token of tokens) {
      if (token === "*") {
        for (const r of table.relations.values()) if (r.storage.kind === "fk_here") out.set(r.name, r);
        continue;
      }
      const byName = table.relations.get(token);
      const byTarget = [...table.relations.values()].filter((r) => r.target === token && r.storage.kind === "fk_here");
      if (byName) out.set(byName.name, byName);
      else if (byTarget.length) for (const r of byTarget) out.set(r.name, r);
      else throw badRequest("Invalid parameter", `table ${table.name} has no relation "${token}" to include`, { parameter: "included_relations" });
    }
    return [...out.values()];
  }

  /**
   * Loads the named relations of `resources` (one query per relation), fills their relationship data, and
   * returns the related resources once each. Rows the caller may not read are left out.
   */
  include(who: Identity, table: TableInfo, resources: Resource[], rels: RelationInfo[], fieldsOf?: (target: TableInfo) => string[] | undefined): Resource[] {
    const included = new Map<string, Resource>();
    if (resources.length === 0) return [];
    const parentIds = resources.map((r) => r.rowId);
    for (const rel of rels) {
      const target = this.data.table(rel.target);
      if (!this.data.canPeek(who, target)) continue;
      const fields = fieldsOf?.(target);
      const cols = selectedColumns(target, fields);
      const filter = readFilter(who, target, this.ctx.registry());
      const perm = () => (filter ? sql` AND ${filter.sql()}` : sql``);
      const s = rel.storage;
      const T = sql.identifier(target.name);
      // One prepared statement per (relation, number of ids, caller's view): ids and view values are placeholders.
      const idList = (n: number) => sql.join(Array.from({ length: n }, (_, i) => sql.placeholder(`i${i}`)), sql`, `);
      const shape = `include:${table.name}.${rel.name}:${filter?.shape ?? "all"}:${fields?.join(",") ?? "*"}`;
      let rows: Record<string, unknown>[];
      if (s.kind === "fk_here") {
        const ids = [...new Set(resources.map((r) => r.attributes[s.column]).filter(isUuid))];
        if (ids.length === 0) continue;
        const values: Record<string, unknown> = { ...filter?.values };
        ids.forEach((id, i) => (values[`i${i}`] = uuidToBytes(id)));
        // The linkage stays in `relationships`; an unreadable target is simply not included.
        rows = this.ctx.db
          .prepare(`${shape}:${ids.length}`, () => sql`SELECT ${selectList(cols)} FROM ${T} t WHERE t.reference_id IN (${idList(ids.length)})${perm()}`)
          .all(values);
      } else {
        const values: Record<string, unknown> = { ...filter?.values };
        parentIds.forEach((id, i) => (values[`i${i}`] = id));
        rows = this.ctx.db
          .prepare(`${shape}:${parentIds.length}`, () => {
            const parentCol: SQL = s.kind === "fk_there" ? sql`t.${sql.identifier(s.column)}` : sql`j.${sql.identifier(s.selfColumn)}`;
            const from = s.kind === "fk_there"
              ? sql`FROM ${T} t WHERE ${parentCol} IN (${idList(parentIds.length)})${perm()}`
              : sql`FROM ${T} t JOIN ${sql.identifier(s.table)} j ON j.${sql.identifier(s.otherColumn)} = t.id WHERE ${parentCol} IN (${idList(parentIds.length)})${perm()}`;
            const order = s.kind === "join" ? sql`j.id DESC` : sql`t.id DESC`;
            const limit = rel.toMany ? INCLUDE_LIMIT : 1;
            return sql`SELECT * FROM (SELECT ${selectList(cols)}, ${parentCol} AS "__parent",
              ROW_NUMBER() OVER (PARTITION BY ${parentCol} ORDER BY ${order}) AS "__rank" ${from}) WHERE "__rank" <= ${limit}`;
          })
          .all(values);
        const byParent = new Map<number, ResourceIdentifier[]>();
        for (const r of rows) {
          const p = r.__parent as number;
          const res = toResource(target, cols, r);
          if (!byParent.has(p)) byParent.set(p, []);
          byParent.get(p)!.push({ type: res.type, id: res.id });
        }
        for (const res of resources) {
          const linked = byParent.get(res.rowId) ?? [];
          const rs = res.relationships[rel.name];
          if (rs) rs.data = rel.toMany ? linked : (linked[0] ?? null);
          // Daptin also lists the ids as an attribute of the same name.
          if (rel.toMany) res.attributes[rel.name] = linked.map((l) => l.id);
        }
      }
      for (const r of rows) {
        const res = toResource(target, cols, r);
        const key = `${res.type}/${res.id}`;
        if (!included.has(key)) included.set(key, res);
      }
    }
    // A resource already in `data` is not repeated in `included` (JSON:API).
    for (const r of resources) included.delete(`${r.type}/${r.id}`);
    return [...included.values()];
  }
}
