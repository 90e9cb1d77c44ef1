// The schema registry: every table the instance serves, with its columns, relations and storage, derived once
// per schema change from the merged definitions (spec 10 sections 3 and 5). Nothing here touches the database.
import { familyOf, type ColumnFamily } from "./column-types/index.ts";
import { isJoinTableName, joinTableName } from "./names.ts";
import { columnDef, STANDARD_COLUMNS, STANDARD_COLUMN_NAMES } from "./standard.ts";
import { columnNameProblem, MAX_COLUMNS, tableNameProblem } from "./validate.ts";
import { relationKey } from "./merge.ts";
import type { ColumnDef, OnDelete, RelationDef, RelationKind, TableDef } from "./types.ts";

export interface ColumnInfo extends ColumnDef {
  family: ColumnFamily;
  /** Set for columns holding another row's integer id (relations); the API shows that row's reference id. */
  references?: { table: string; onDelete: OnDelete };
  isStandard: boolean;
}

/** How a relation is stored, seen from the table that owns the RelationInfo. */
export type RelationStorage =
  | { kind: "fk_here"; column: string } // this table holds the FK (to-one)
  | { kind: "fk_there"; column: string } // the target holds an FK to this table (reverse belongs_to / has_one)
  | { kind: "join"; table: string; selfColumn: string; otherColumn: string };

export interface RelationInfo {
  /** The relationship name in the API: the FK or join column name, never a table name. */
  name: string;
  target: string;
  toMany: boolean;
  kind: RelationKind;
  storage: RelationStorage;
  def: RelationDef;
}

export interface TableInfo {
  name: string;
  def: TableDef;
  columns: ColumnInfo[];
  column: Map<string, ColumnInfo>;
  /** Columns shown in API attributes (not ExcludeFromApi), alphabetical. */
  apiColumns: ColumnInfo[];
  relations: Map<string, RelationInfo>;
  isJoin: boolean;
  hasOwner: boolean;
  /** Columns the `filter` parameter searches (indexed/unique label, email, *name* columns). */
  searchable: ColumnInfo[];
  defaultSort: { column: string; desc: boolean }[];
}

/** A definition the engine cannot serve; `table` names the table whose definition is at fault. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly table?: string,
  ) {
    super(message);
  }
}

const OWNERLESS = (name: string) => name === "usergroup" || isJoinTableName(name) || name.endsWith("_audit");

function implicitRelations(table: string): RelationDef[] {
  if (OWNERLESS(table)) return [];
  return [
    { Subject: table, Relation: "belongs_to", Object: "user_account", SubjectName: `${table}_id`, ObjectName: "user_account_id" },
    { Subject: table, Relation: "has_many", Object: "usergroup", SubjectName: `${table}_id`, ObjectName: "usergroup_id" },
  ];
}

function fkColumn(name: string, target: string, nullable: boolean): ColumnDef {
  return columnDef({
    Name: target,
    ColumnName: name,
    ColumnType: "alias",
    DataType: "int(11)",
    IsNullable: nullable,
    IsIndexed: true,
    IsForeignKey: true,
    ForeignKeyData: { DataSource: "self", Namespace: target, KeyName: "id" },
  });
}

function emptyTable(name: string): TableDef {
  return {
    TableName: name, Columns: [], Relations: [], DefaultPermission: 0, Permission: 0, IsHidden: false,
    IsJoinTable: false, IsTopLevel: true, IsStateTrackingEnabled: false, IsAuditEnabled: false,
    TranslationsEnabled: false, DefaultOrder: "", Icon: "", TableDescription: "",
  };
}

export class Registry {
  readonly tables = new Map<string, TableInfo>();
  /** Relations after implicit ones were added and duplicates removed, in processing order. */
  readonly relations: RelationDef[] = [];
  /** For each table, the columns of other tables that point at it (for delete checks). */
  readonly referencedBy = new Map<string, { table: string; column: string; onDelete: OnDelete }[]>();
  private readonly reaches = new Map<string, Set<string>>();
  private bySubject: Map<string, RelationDef[]> | undefined;

  constructor(defs: TableDef[], extraRelations: RelationDef[] = [], deferred?: "deferred") {
    if (deferred) return;
    for (const _ of this.fill(defs, extraRelations));
  }

  /** The same registry built a piece at a time: the generator yields between relations and tables (large schemas). */
  static *pieces(defs: TableDef[], extraRelations: RelationDef[] = []): Generator<void, Registry> {
    const registry = new Registry([], [], "deferred");
    yield* registry.fill(defs, extraRelations);
    return registry;
  }

  private *fill(defs: TableDef[], extraRelations: RelationDef[]): Generator<void> {
    const work = new Map<string, TableDef>();
    for (const d of defs) work.set(d.TableName, { ...d, Columns: [...d.Columns], Relations: [] });
    const seen = new Set<string>();
    const addRel = (r: RelationDef) => {
      const k = relationKey(r);
      if (seen.has(k)) return;
      seen.add(k);
      this.relations.push(r);
    };
    // Declared relations first, then the implicit owner and sharing relations (their FK columns come last).
    for (const d of defs) d.Relations.forEach(addRel);
    extraRelations.forEach(addRel);
    for (const d of defs) implicitRelations(d.TableName).forEach(addRel);

    const fkMeta = new Map<string, { table: string; onDelete: OnDelete }>(); // "table.column" -> target
    for (const r of this.relations) {
      for (const [t, role] of [[r.Subject, "Subject"], [r.Object, "Object"]] as const) {
        if (!work.has(t)) throw new RegistryError(`relation ${r.Subject} ${r.Relation} ${r.Object}: ${role} table "${t}" does not exist`, r.Subject);
      }
      for (const n of [r.SubjectName, r.ObjectName]) {
        // A relation name is a column name (the FK or join column): the same rule.
        const problem = columnNameProblem(n, "relation name");
        if (problem) throw new RegistryError(problem, r.Subject);
      }
      if (r.Relation === "belongs_to" || r.Relation === "has_one") {
        const subject = work.get(r.Subject)!;
        const nullable = r.Relation === "has_one" || r.Object === "user_account" || r.Object === "usergroup";
        if (!subject.Columns.some((c) => c.ColumnName === r.ObjectName)) {
          subject.Columns.push(fkColumn(r.ObjectName, r.Object, nullable), ...(r.Columns ?? []));
        }
        const onDelete: OnDelete = r.OnDelete ?? (nullable ? "set_null" : "restrict");
        if (onDelete === "set_null" && !nullable) {
          throw new RegistryError(`relation ${r.Subject} belongs_to ${r.Object}: OnDelete set_null needs a nullable column (use has_one)`, r.Subject);
        }
        fkMeta.set(`${r.Subject}.${r.ObjectName}`, { table: r.Object, onDelete });
      } else {
        const jt = joinTableName(r.Subject, r.SubjectName, r.Object, r.ObjectName);
        const join = work.get(jt) ?? emptyTable(jt);
        join.IsJoinTable = true;
        const cols = [fkColumn(r.SubjectName, r.Subject, false), fkColumn(r.ObjectName, r.Object, false), ...(r.Columns ?? [])];
        for (const c of cols) if (!join.Columns.some((x) => x.ColumnName === c.ColumnName)) join.Columns.push(c);
        work.set(jt, join);
        fkMeta.set(`${jt}.${r.SubjectName}`, { table: r.Subject, onDelete: "cascade" });
        fkMeta.set(`${jt}.${r.ObjectName}`, { table: r.Object, onDelete: "cascade" });
      }
      yield;
    }

    for (const d of work.values()) {
      this.tables.set(d.TableName, this.buildTable(d, fkMeta));
      yield;
    }
    for (const t of this.tables.values()) {
      for (const c of t.columns) {
        if (!c.references) continue;
        const list = this.referencedBy.get(c.references.table) ?? [];
        list.push({ table: t.name, column: c.ColumnName, onDelete: c.references.onDelete });
        this.referencedBy.set(c.references.table, list);
      }
    }
    for (const r of this.relations) this.linkRelation(r);
  }

  /** The relations a table declares (it is their Subject), as stored with its definition. */
  relationsOf(table: string): RelationDef[] {
    if (!this.bySubject) {
      this.bySubject = new Map();
      for (const r of this.relations) {
        const list = this.bySubject.get(r.Subject);
        if (list) list.push(r);
        else this.bySubject.set(r.Subject, [r]);
      }
    }
    return this.bySubject.get(table) ?? [];
  }

  /** The tables whose rows a delete in `table` may change: itself, and transitively those whose links cascade or clear. */
  deleteReaches(table: string): ReadonlySet<string> {
    let reach = this.reaches.get(table);
    if (!reach) {
      reach = new Set([table]);
      const todo = [table];
      while (todo.length > 0) {
        for (const ref of this.referencedBy.get(todo.pop()!) ?? []) {
          if (ref.onDelete === "restrict" || reach.has(ref.table)) continue;
          reach.add(ref.table);
          if (ref.onDelete === "cascade") todo.push(ref.table);
        }
      }
      this.reaches.set(table, reach);
    }
    return reach;
  }

  private buildTable(d: TableDef, fkMeta: Map<string, { table: string; onDelete: OnDelete }>): TableInfo {
    const nameProblem = tableNameProblem(d.TableName);
    if (nameProblem) throw new RegistryError(nameProblem, d.TableName);
    const isJoin = isJoinTableName(d.TableName);
    const declared = d.Columns.filter((c) => !STANDARD_COLUMN_NAMES.has(c.ColumnName));
    if (STANDARD_COLUMNS.length + declared.length > MAX_COLUMNS) {
      throw new RegistryError(`table ${d.TableName}: ${STANDARD_COLUMNS.length + declared.length} columns (standard ones included); a table can have at most ${MAX_COLUMNS}`, d.TableName);
    }
    const columns: ColumnInfo[] = [...STANDARD_COLUMNS, ...declared].map((c) => {
      const problem = columnNameProblem(c.ColumnName);
      if (problem) throw new RegistryError(`table ${d.TableName}: ${problem}`, d.TableName);
      const meta = fkMeta.get(`${d.TableName}.${c.ColumnName}`);
      return { ...c, family: familyOf(c), isStandard: STANDARD_COLUMN_NAMES.has(c.ColumnName), ...(meta ? { references: meta } : {}) };
    });
    const column = new Map(columns.map((c) => [c.ColumnName, c]));
    for (const keys of d.CompositeKeys ?? []) {
      for (const k of keys) if (!column.has(k)) throw new RegistryError(`table ${d.TableName}: CompositeKeys names unknown column "${k}"`, d.TableName);
    }
    const searchable = columns.filter((c) => {
      const t = c.ColumnType.toLowerCase();
      return (c.IsIndexed || c.IsUnique) && (t.includes("name") || t === "label" || t === "email");
    });
    const order = (d.DefaultOrder || (d.TableName === "world" ? "+table_name" : "-created_at"))
      .split(",")
      .map((s) => s.trim().replace(/^["']|["']$/g, ""))
      .filter(Boolean)
      .map((s) => ({ column: s.replace(/^[-+]/, ""), desc: s.startsWith("-") }))
      .filter((s) => column.has(s.column));
    return {
      name: d.TableName,
      def: { ...d, IsJoinTable: isJoin || d.IsJoinTable, IsTopLevel: !isJoin },
      columns,
      column,
      apiColumns: columns.filter((c) => !c.ExcludeFromApi).sort((a, b) => a.ColumnName.localeCompare(b.ColumnName)),
      relations: new Map(),
      isJoin,
      hasOwner: column.get("user_account_id")?.references?.table === "user_account" && !OWNERLESS(d.TableName),
      searchable,
      defaultSort: order.length ? order : [{ column: "created_at", desc: true }],
    };
  }

  private linkRelation(r: RelationDef) {
    const subject = this.tables.get(r.Subject)!;
    const object = this.tables.get(r.Object)!;
    const add = (t: TableInfo, info: RelationInfo) => {
      // The first relation to claim a name keeps it (a self-relation's reverse side would clash).
      if (!t.relations.has(info.name) && !(t.column.has(info.name) && info.storage.kind !== "fk_here")) t.relations.set(info.name, info);
    };
    if (r.Relation === "belongs_to" || r.Relation === "has_one") {
      add(subject, { name: r.ObjectName, target: r.Object, toMany: false, kind: r.Relation, storage: { kind: "fk_here", column: r.ObjectName }, def: r });
      add(object, {
        name: r.SubjectName, target: r.Subject, toMany: r.Relation === "belongs_to", kind: r.Relation,
        storage: { kind: "fk_there", column: r.ObjectName }, def: r,
      });
    } else {
      const table = joinTableName(r.Subject, r.SubjectName, r.Object, r.ObjectName);
      add(subject, { name: r.ObjectName, target: r.Object, toMany: true, kind: r.Relation, storage: { kind: "join", table, selfColumn: r.SubjectName, otherColumn: r.ObjectName }, def: r });
      add(object, { name: r.SubjectName, target: r.Subject, toMany: true, kind: r.Relation, storage: { kind: "join", table, selfColumn: r.ObjectName, otherColumn: r.SubjectName }, def: r });
      // The join table is a resource too: its two columns are to-one relations to either side.
      const join = this.tables.get(table)!;
      add(join, { name: r.SubjectName, target: r.Subject, toMany: false, kind: "belongs_to", storage: { kind: "fk_here", column: r.SubjectName }, def: r });
      add(join, { name: r.ObjectName, target: r.Object, toMany: false, kind: "belongs_to", storage: { kind: "fk_here", column: r.ObjectName }, def: r });
    }
  }

  get(name: string): TableInfo | undefined {
    return this.tables.get(name);
  }
}
