// Schema files (YAML or JSON) -> typed definitions, with `file:line: what is wrong` errors.
// Keys match case-insensitively like Daptin's decoder; we also accept snake_case spellings (`table_name`).
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from "yaml";
import { parsePermission, PermissionSyntaxError } from "../permission/bits.ts";
import { underscore } from "./names.ts";
import {
  RELATION_KINDS,
  type ColumnDef,
  type ColumnOption,
  type GroupBinding,
  type OnDelete,
  type RelationDef,
  type RelationKind,
  type RuleDef,
  type SchemaDoc,
  type TableDef,
} from "./types.ts";

export class SchemaParseError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`);
  }
}

type Ctx = { file: string; lines: LineCounter; warnings: string[] };

const keyOf = (k: string) => k.replace(/_/g, "").toLowerCase();

function lineOf(ctx: Ctx, node: Node | null | undefined): number {
  const offset = node?.range?.[0];
  return offset === undefined ? 1 : ctx.lines.linePos(offset).line;
}

function fail(ctx: Ctx, node: Node | null | undefined, problem: string): never {
  throw new SchemaParseError(ctx.file, lineOf(ctx, node), problem);
}

/** Reads a mapping node into canonical-key -> node, reporting unknown keys as warnings. */
function fields(ctx: Ctx, node: Node | null, path: string, known: readonly string[]): Map<string, { node: Node | null; raw: string }> {
  if (!isMap(node)) fail(ctx, node, `${path} must be a mapping (key: value)`);
  const canon = new Map(known.map((k) => [keyOf(k), k]));
  const out = new Map<string, { node: Node | null; raw: string }>();
  for (const pair of node.items as Pair<Node, Node | null>[]) {
    const raw = isScalar(pair.key) ? String(pair.key.value) : "";
    const name = canon.get(keyOf(raw));
    if (!name) {
      ctx.warnings.push(`${ctx.file}:${lineOf(ctx, pair.key)}: unknown key "${raw}" in ${path} is ignored`);
      continue;
    }
    out.set(name, { node: pair.value, raw });
  }
  return out;
}

function str(ctx: Ctx, node: Node | null, path: string): string {
  if (node === null || (isScalar(node) && node.value === null)) return "";
  if (!isScalar(node) || typeof node.value === "object") fail(ctx, node, `${path} must be a text value`);
  // Numbers and booleans are read as their text (Daptin rejects the whole file for `DefaultValue: 0`).
  return String(node.value);
}

function bool(ctx: Ctx, node: Node | null, path: string): boolean {
  if (isScalar(node) && typeof node.value === "boolean") return node.value;
  if (isScalar(node) && (node.value === "true" || node.value === "false")) return node.value === "true";
  return fail(ctx, node, `${path} must be true or false`);
}

function perm(ctx: Ctx, node: Node | null, path: string): number {
  try {
    return parsePermission(node && "toJSON" in node ? (node as { toJSON(): unknown }).toJSON() : null);
  } catch (e) {
    if (e instanceof PermissionSyntaxError) fail(ctx, node, `${path}: ${e.message}`);
    throw e;
  }
}

function list<T>(ctx: Ctx, node: Node | null, path: string, item: (n: Node | null, p: string) => T): T[] {
  if (node === null || (isScalar(node) && node.value === null)) return [];
  if (!isSeq(node)) fail(ctx, node, `${path} must be a list`);
  return (node.items as (Node | null)[]).map((n, i) => item(n, `${path}[${i}]`));
}

const COLUMN_KEYS = [
  "Name", "ColumnName", "ColumnType", "DataType", "IsNullable", "DefaultValue", "IsUnique", "IsIndexed",
  "IsPrimaryKey", "IsAutoIncrement", "IsForeignKey", "ForeignKeyData", "ExcludeFromApi", "ColumnDescription",
  "Options", "Permission",
] as const;

function column(ctx: Ctx, node: Node | null, path: string): ColumnDef {
  const f = fields(ctx, node, path, COLUMN_KEYS);
  const s = (k: string) => (f.has(k) ? str(ctx, f.get(k)!.node, `${path}.${k}`).trim() : "");
  const b = (k: string) => (f.has(k) ? bool(ctx, f.get(k)!.node, `${path}.${k}`) : false);
  let name = s("Name");
  let columnName = s("ColumnName");
  if (!columnName) columnName = name;
  columnName = underscore(columnName);
  if (!name) name = columnName;
  if (!columnName) fail(ctx, node, `${path} needs a Name or ColumnName`);
  const col: ColumnDef = {
    Name: name,
    ColumnName: columnName,
    ColumnType: s("ColumnType"),
    DataType: s("DataType"),
    IsNullable: b("IsNullable"),
    DefaultValue: s("DefaultValue"),
    IsUnique: b("IsUnique"),
    IsIndexed: b("IsIndexed"),
    IsPrimaryKey: b("IsPrimaryKey"),
    IsAutoIncrement: b("IsAutoIncrement"),
    IsForeignKey: b("IsForeignKey"),
    ExcludeFromApi: b("ExcludeFromApi"),
    ColumnDescription: s("ColumnDescription"),
  };
  const fk = f.get("ForeignKeyData");
  if (fk && fk.node && !(isScalar(fk.node) && fk.node.value === null)) {
    const ff = fields(ctx, fk.node, `${path}.ForeignKeyData`, ["DataSource", "Namespace", "KeyName"]);
    const g = (k: string) => (ff.has(k) ? str(ctx, ff.get(k)!.node, `${path}.ForeignKeyData.${k}`) : "");
    col.ForeignKeyData = { DataSource: g("DataSource"), Namespace: g("Namespace"), KeyName: g("KeyName") };
  }
  const opts = f.get("Options");
  if (opts) col.Options = list(ctx, opts.node, `${path}.Options`, (n, p) => option(ctx, n, p));
  return col;
}

function option(ctx: Ctx, node: Node | null, path: string): ColumnOption {
  if (isScalar(node)) return { Value: str(ctx, node, path) };
  const f = fields(ctx, node, path, ["Value", "Label", "ValueType"]);
  const value = f.has("Value") ? str(ctx, f.get("Value")!.node, `${path}.Value`) : "";
  if (value === "") fail(ctx, node, `${path} needs a Value`);
  const out: ColumnOption = { Value: value };
  if (f.has("Label")) out.Label = str(ctx, f.get("Label")!.node, `${path}.Label`);
  if (f.has("ValueType")) out.ValueType = str(ctx, f.get("ValueType")!.node, `${path}.ValueType`);
  return out;
}

const ON_DELETE: Record<string, OnDelete> = { restrict: "restrict", setnull: "set_null", cascade: "cascade" };

function relation(ctx: Ctx, node: Node | null, path: string): RelationDef {
  const f = fields(ctx, node, path, ["Subject", "Relation", "Object", "SubjectName", "ObjectName", "Columns", "OnDelete"]);
  const s = (k: string) => (f.has(k) ? str(ctx, f.get(k)!.node, `${path}.${k}`).trim() : "");
  const subject = s("Subject");
  const object = s("Object");
  const kind = s("Relation").toLowerCase() as RelationKind;
  if (!subject) fail(ctx, node, `${path} needs a Subject`);
  if (!object) fail(ctx, node, `${path} needs an Object`);
  if (!RELATION_KINDS.includes(kind)) {
    fail(ctx, f.get("Relation")?.node ?? node, `${path}.Relation "${s("Relation")}" is not one of ${RELATION_KINDS.join(", ")}`);
  }
  const rel: RelationDef = {
    Subject: subject,
    Relation: kind,
    Object: object,
    SubjectName: s("SubjectName") || `${subject}_id`,
    ObjectName: s("ObjectName") || `${object}_id`,
  };
  if (f.has("Columns")) rel.Columns = list(ctx, f.get("Columns")!.node, `${path}.Columns`, (n, p) => column(ctx, n, p));
  if (f.has("OnDelete")) {
    const raw = s("OnDelete");
    const od = ON_DELETE[keyOf(raw)];
    if (!od) fail(ctx, f.get("OnDelete")!.node, `${path}.OnDelete "${raw}" is not one of restrict, set_null, cascade`);
    rel.OnDelete = od;
  }
  return rel;
}

function groupBinding(ctx: Ctx, node: Node | null, path: string): GroupBinding {
  if (isScalar(node)) return { Name: str(ctx, node, path) };
  const f = fields(ctx, node, path, ["Name", "Permission"]);
  const name = f.has("Name") ? str(ctx, f.get("Name")!.node, `${path}.Name`) : "";
  if (!name) fail(ctx, node, `${path} needs a Name`);
  const out: GroupBinding = { Name: name };
  if (f.has("Permission")) out.Permission = perm(ctx, f.get("Permission")!.node, `${path}.Permission`);
  return out;
}

function rule(ctx: Ctx, node: Node | null, path: string): RuleDef {
  const f = fields(ctx, node, path, ["ColumnName", "Tags"]);
  return {
    ColumnName: f.has("ColumnName") ? str(ctx, f.get("ColumnName")!.node, `${path}.ColumnName`) : "",
    Tags: f.has("Tags") ? str(ctx, f.get("Tags")!.node, `${path}.Tags`) : "",
  };
}

const TABLE_KEYS = [
  "TableName", "Columns", "Relations", "DefaultPermission", "Permission", "DefaultGroups", "AccessGroups",
  "DefaultRelations", "IsHidden", "IsTopLevel", "IsJoinTable", "IsStateTrackingEnabled", "IsAuditEnabled",
  "TranslationsEnabled", "Validations", "Conformations", "DefaultOrder", "CompositeKeys", "Icon",
  "TableDescription", "Metering", "StateMachines", "TableId", "UserId",
] as const;

function table(ctx: Ctx, node: Node | null, path: string, explicit: Map<string, Set<string>>): TableDef {
  const f = fields(ctx, node, path, TABLE_KEYS);
  const name = underscore(f.has("TableName") ? str(ctx, f.get("TableName")!.node, `${path}.TableName`) : "");
  if (!name) fail(ctx, node, `${path} needs a TableName`);
  if (name.length < 2) fail(ctx, f.get("TableName")!.node, `${path}.TableName "${name}" must be at least 2 characters`);
  const p = `${path} (${name})`;
  const b = (k: string) => (f.has(k) ? bool(ctx, f.get(k)!.node, `${p}.${k}`) : false);
  const s = (k: string) => (f.has(k) ? str(ctx, f.get(k)!.node, `${p}.${k}`) : "");
  const columns = f.has("Columns") ? list(ctx, f.get("Columns")!.node, `${p}.Columns`, (n, q) => column(ctx, n, q)) : [];
  const seen = new Map<string, string>();
  const colsNode = f.get("Columns")?.node;
  columns.forEach((c, i) => {
    if (seen.has(c.ColumnName)) {
      const item = isSeq(colsNode) ? (colsNode.items[i] as Node) : colsNode;
      fail(ctx, item, `${p}.Columns[${i}]: column "${c.ColumnName}" is declared twice`);
    }
    seen.set(c.ColumnName, c.Name);
  });
  const t: TableDef = {
    TableName: name,
    Columns: columns,
    Relations: f.has("Relations") ? list(ctx, f.get("Relations")!.node, `${p}.Relations`, (n, q) => relation(ctx, n, q)) : [],
    DefaultPermission: f.has("DefaultPermission") ? perm(ctx, f.get("DefaultPermission")!.node, `${p}.DefaultPermission`) : 0,
    Permission: f.has("Permission") ? perm(ctx, f.get("Permission")!.node, `${p}.Permission`) : 0,
    IsHidden: b("IsHidden"),
    IsJoinTable: b("IsJoinTable"),
    IsTopLevel: b("IsTopLevel"),
    IsStateTrackingEnabled: b("IsStateTrackingEnabled"),
    IsAuditEnabled: b("IsAuditEnabled"),
    TranslationsEnabled: b("TranslationsEnabled"),
    DefaultOrder: s("DefaultOrder").replace(/^["']|["']$/g, ""),
    Icon: s("Icon"),
    TableDescription: s("TableDescription"),
  };
  if (f.has("DefaultGroups")) t.DefaultGroups = list(ctx, f.get("DefaultGroups")!.node, `${p}.DefaultGroups`, (n, q) => groupBinding(ctx, n, q));
  if (f.has("AccessGroups")) t.AccessGroups = list(ctx, f.get("AccessGroups")!.node, `${p}.AccessGroups`, (n, q) => groupBinding(ctx, n, q));
  if (f.has("Validations")) t.Validations = list(ctx, f.get("Validations")!.node, `${p}.Validations`, (n, q) => rule(ctx, n, q));
  if (f.has("Conformations")) t.Conformations = list(ctx, f.get("Conformations")!.node, `${p}.Conformations`, (n, q) => rule(ctx, n, q));
  if (f.has("CompositeKeys")) {
    t.CompositeKeys = list(ctx, f.get("CompositeKeys")!.node, `${p}.CompositeKeys`, (n, q) =>
      list(ctx, n, q, (m, r) => str(ctx, m, r)),
    );
  }
  explicit.set(name, new Set([...f.keys()]));
  return t;
}

const TOP_KEYS = [
  "Tables", "Relations", "Actions", "StateMachineDescriptions", "ExchangeContracts", "Tasks", "Streams",
  "Imports", "EnableGraphQL",
] as const;

/** Parses one schema file's text. `file` is only used in messages. */
export function parseSchema(text: string, file: string): SchemaDoc {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const ctx: Ctx = { file, lines, warnings: [] };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    throw new SchemaParseError(file, line, e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""));
  }
  const root = doc.contents as Node | null;
  const out: SchemaDoc = { Tables: [], Relations: [], Actions: [], explicitKeys: new Map(), warnings: ctx.warnings };
  if (root === null || (isScalar(root) && (root.value === null || root.value === ""))) return out;
  const f = fields(ctx, root, "the schema", TOP_KEYS);
  if (f.has("Tables")) out.Tables = list(ctx, f.get("Tables")!.node, "Tables", (n, p) => table(ctx, n, p, out.explicitKeys));
  if (f.has("Relations")) out.Relations = list(ctx, f.get("Relations")!.node, "Relations", (n, p) => relation(ctx, n, p));
  if (f.has("Actions")) out.Actions = list(ctx, f.get("Actions")!.node, "Actions", (n) => (n ? n.toJSON() : null));
  return out;
}
