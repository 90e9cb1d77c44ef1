// Schema files (YAML or JSON) -> typed definitions, with `file:line: what is wrong` errors.
// Keys match case-insensitively like Daptin's decoder; snake_case spellings (`table_name`) are accepted too.
// Decoding works on plain values (Bun's native YAML parser, JSON.parse); only when something is wrong is the
// text parsed again with positions, to name the line.
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { parsePermission, PermissionSyntaxError } from "../permission/bits.ts";
import type { ActionDef, OutcomeDef } from "../actions/types.ts";
import type { JsonValue } from "./column-types/index.ts";
import { underscore } from "./names.ts";
import { columnNameProblem, MAX_COLUMNS, tableNameProblem } from "./validate.ts";
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

type Path = (string | number)[];

/** A problem in an already-parsed value (no file to name a line of): `path` says where, `message` what. */
export class SchemaDecodeError extends Error {
  constructor(
    readonly path: Path,
    readonly problem: string,
  ) {
    super(problem);
  }
}

interface Ctx {
  warnings: { path: Path; text: string }[];
}

/** Canonical spelling of a key; keys repeat in every column of every table, so each is worked out once. */
const canonicalKeys = new Map<string, string>();
const keyOf = (k: string) => {
  let c = canonicalKeys.get(k);
  if (c === undefined) {
    c = k.replace(/_/g, "").toLowerCase();
    if (canonicalKeys.size < 10_000) canonicalKeys.set(k, c);
  }
  return c;
};
/** Canonical key -> declared key, per list of known keys (the lists are module constants). */
const canonicalMaps = new WeakMap<readonly string[], Map<string, string>>();
const label = (path: Path) =>
  path.reduce<string>((acc, p) => (typeof p === "number" ? `${acc}[${p}]` : acc ? `${acc}.${p}` : String(p)), "") || "the schema";
const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** Reads a mapping into canonical-key -> [value, raw key]; unknown keys become warnings. */
function fields(ctx: Ctx, value: unknown, path: Path, known: readonly string[]): Map<string, [unknown, string]> {
  if (!isObj(value)) throw new SchemaDecodeError(path, `${label(path)} must be a mapping (key: value)`);
  let canon = canonicalMaps.get(known);
  if (!canon) canonicalMaps.set(known, (canon = new Map(known.map((k) => [keyOf(k), k]))));
  const out = new Map<string, [unknown, string]>();
  for (const [raw, v] of Object.entries(value)) {
    const name = canon.get(keyOf(raw));
    if (!name) ctx.warnings.push({ path: [...path, raw], text: `unknown key "${raw}" in ${label(path)} is ignored` });
    else out.set(name, [v, raw]);
  }
  return out;
}

function str(v: unknown, path: Path): string {
  if (v === null || v === undefined) return "";
  // Numbers and booleans are read as their text (Daptin rejects the whole file for `DefaultValue: 0`).
  if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") return String(v);
  throw new SchemaDecodeError(path, `${label(path)} must be a text value`);
}

function bool(v: unknown, path: Path): boolean {
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "false") return v === "true";
  throw new SchemaDecodeError(path, `${label(path)} must be true or false`);
}

function perm(v: unknown, path: Path): number {
  try {
    return parsePermission(v);
  } catch (e) {
    if (e instanceof PermissionSyntaxError) throw new SchemaDecodeError(path, `${label(path)}: ${e.message}`);
    throw e;
  }
}

function list<T>(v: unknown, path: Path, item: (v: unknown, p: Path) => T): T[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) throw new SchemaDecodeError(path, `${label(path)} must be a list`);
  return v.map((x, i) => item(x, [...path, i]));
}

/** Field accessors over one decoded mapping. */
function reader(f: Map<string, [unknown, string]>, path: Path) {
  const at = (k: string): Path => [...path, f.get(k)?.[1] ?? k];
  return {
    has: (k: string) => f.has(k),
    raw: (k: string) => f.get(k)?.[0],
    at,
    // Plain strings and booleans (nearly every value) skip building the path an error message would need.
    s: (k: string) => {
      const v = f.get(k)?.[0];
      return typeof v === "string" ? v.trim() : f.has(k) ? str(v, at(k)).trim() : "";
    },
    b: (k: string) => {
      const v = f.get(k)?.[0];
      return typeof v === "boolean" ? v : f.has(k) ? bool(v, at(k)) : false;
    },
  };
}

const COLUMN_KEYS = [
  "Name", "ColumnName", "ColumnType", "DataType", "IsNullable", "DefaultValue", "IsUnique", "IsIndexed",
  "IsPrimaryKey", "IsAutoIncrement", "IsForeignKey", "ForeignKeyData", "ExcludeFromApi", "ColumnDescription",
  "Options", "Permission",
] as const;

function column(ctx: Ctx, value: unknown, path: Path): ColumnDef {
  const r = reader(fields(ctx, value, path, COLUMN_KEYS), path);
  let name = r.s("Name");
  const columnName = underscore(r.s("ColumnName") || name);
  if (!name) name = columnName;
  if (!columnName) throw new SchemaDecodeError(path, `${label(path)} needs a Name or ColumnName`);
  const col: ColumnDef = {
    Name: name,
    ColumnName: columnName,
    ColumnType: r.s("ColumnType"),
    DataType: r.s("DataType"),
    IsNullable: r.b("IsNullable"),
    DefaultValue: r.has("DefaultValue") ? str(r.raw("DefaultValue"), r.at("DefaultValue")) : "",
    IsUnique: r.b("IsUnique"),
    IsIndexed: r.b("IsIndexed"),
    IsPrimaryKey: r.b("IsPrimaryKey"),
    IsAutoIncrement: r.b("IsAutoIncrement"),
    IsForeignKey: r.b("IsForeignKey"),
    ExcludeFromApi: r.b("ExcludeFromApi"),
    ColumnDescription: r.s("ColumnDescription"),
  };
  const fk = r.raw("ForeignKeyData");
  if (fk !== undefined && fk !== null) {
    const fr = reader(fields(ctx, fk, r.at("ForeignKeyData"), ["DataSource", "Namespace", "KeyName"]), r.at("ForeignKeyData"));
    col.ForeignKeyData = { DataSource: fr.s("DataSource"), Namespace: fr.s("Namespace"), KeyName: fr.s("KeyName") };
  }
  if (r.has("Options") && r.raw("Options") !== null) col.Options = list(r.raw("Options"), r.at("Options"), (v, p) => option(ctx, v, p));
  return col;
}

function option(ctx: Ctx, value: unknown, path: Path): ColumnOption {
  if (!isObj(value)) return { Value: str(value, path) };
  const r = reader(fields(ctx, value, path, ["Value", "Label", "ValueType"]), path);
  if (r.s("Value") === "") throw new SchemaDecodeError(path, `${label(path)} needs a Value`);
  const out: ColumnOption = { Value: r.s("Value") };
  if (r.has("Label")) out.Label = r.s("Label");
  if (r.has("ValueType")) out.ValueType = r.s("ValueType");
  return out;
}

const ON_DELETE: Record<string, OnDelete> = { restrict: "restrict", setnull: "set_null", cascade: "cascade" };

function relation(ctx: Ctx, value: unknown, path: Path): RelationDef {
  const r = reader(fields(ctx, value, path, ["Subject", "Relation", "Object", "SubjectName", "ObjectName", "Columns", "OnDelete"]), path);
  const subject = r.s("Subject");
  const object = r.s("Object");
  const kind = r.s("Relation").toLowerCase() as RelationKind;
  if (!subject) throw new SchemaDecodeError(path, `${label(path)} needs a Subject`);
  if (!object) throw new SchemaDecodeError(path, `${label(path)} needs an Object`);
  if (!RELATION_KINDS.includes(kind)) {
    throw new SchemaDecodeError(r.at("Relation"), `${label(path)}.Relation "${r.s("Relation")}" is not one of ${RELATION_KINDS.join(", ")}`);
  }
  const rel: RelationDef = {
    Subject: subject,
    Relation: kind,
    Object: object,
    SubjectName: r.s("SubjectName") || `${subject}_id`,
    ObjectName: r.s("ObjectName") || `${object}_id`,
  };
  if (r.has("Columns") && r.raw("Columns") !== null) rel.Columns = list(r.raw("Columns"), r.at("Columns"), (v, p) => column(ctx, v, p));
  if (r.has("OnDelete") && r.s("OnDelete") !== "") {
    const od = ON_DELETE[keyOf(r.s("OnDelete"))];
    if (!od) throw new SchemaDecodeError(r.at("OnDelete"), `${label(path)}.OnDelete "${r.s("OnDelete")}" is not one of restrict, set_null, cascade`);
    rel.OnDelete = od;
  }
  return rel;
}

function groupBinding(ctx: Ctx, value: unknown, path: Path): GroupBinding {
  if (!isObj(value)) return { Name: str(value, path) };
  const r = reader(fields(ctx, value, path, ["Name", "Permission"]), path);
  if (!r.s("Name")) throw new SchemaDecodeError(path, `${label(path)} needs a Name`);
  const out: GroupBinding = { Name: r.s("Name") };
  if (r.has("Permission")) out.Permission = perm(r.raw("Permission"), r.at("Permission"));
  return out;
}

function rule(ctx: Ctx, value: unknown, path: Path): RuleDef {
  const r = reader(fields(ctx, value, path, ["ColumnName", "Tags"]), path);
  return { ColumnName: r.s("ColumnName"), Tags: r.s("Tags") };
}

const TABLE_KEYS = [
  "TableName", "Columns", "Relations", "DefaultPermission", "Permission", "DefaultGroups", "AccessGroups",
  "DefaultRelations", "IsHidden", "IsTopLevel", "IsJoinTable", "IsStateTrackingEnabled", "IsAuditEnabled",
  "TranslationsEnabled", "Validations", "Conformations", "DefaultOrder", "CompositeKeys", "Icon",
  "TableDescription", "Metering", "StateMachines", "TableId", "UserId",
] as const;

function table(ctx: Ctx, value: unknown, path: Path, explicit: Map<string, Set<string>>): TableDef {
  const f = fields(ctx, value, path, TABLE_KEYS);
  const r = reader(f, path);
  const name = underscore(r.s("TableName"));
  if (!name) throw new SchemaDecodeError(path, `${label(path)} needs a TableName`);
  const nameProblem = tableNameProblem(name);
  if (nameProblem) throw new SchemaDecodeError(r.at("TableName"), `${label(path)}.${nameProblem}`);
  const columns = list(r.raw("Columns"), r.at("Columns"), (v, p) => column(ctx, v, p));
  if (columns.length > MAX_COLUMNS) throw new SchemaDecodeError(r.at("Columns"), `table ${name}: ${columns.length} columns; a table can have at most ${MAX_COLUMNS}`);
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    const problem = columnNameProblem(c.ColumnName);
    if (problem) throw new SchemaDecodeError([...r.at("Columns"), i], `table ${name}: ${problem}`);
    if (seen.has(c.ColumnName)) throw new SchemaDecodeError([...r.at("Columns"), i], `table ${name}: column "${c.ColumnName}" is declared twice`);
    seen.add(c.ColumnName);
  });
  const t: TableDef = {
    TableName: name,
    Columns: columns,
    Relations: list(r.raw("Relations"), r.at("Relations"), (v, p) => relation(ctx, v, p)),
    DefaultPermission: r.has("DefaultPermission") && r.raw("DefaultPermission") !== null ? perm(r.raw("DefaultPermission"), r.at("DefaultPermission")) : 0,
    Permission: r.has("Permission") && r.raw("Permission") !== null ? perm(r.raw("Permission"), r.at("Permission")) : 0,
    IsHidden: r.b("IsHidden"),
    IsJoinTable: r.b("IsJoinTable"),
    IsTopLevel: r.b("IsTopLevel"),
    IsStateTrackingEnabled: r.b("IsStateTrackingEnabled"),
    IsAuditEnabled: r.b("IsAuditEnabled"),
    TranslationsEnabled: r.b("TranslationsEnabled"),
    DefaultOrder: r.s("DefaultOrder").replace(/^["']|["']$/g, ""),
    Icon: r.s("Icon"),
    TableDescription: r.s("TableDescription"),
  };
  const groups = (k: "DefaultGroups" | "AccessGroups") => {
    if (r.has(k) && r.raw(k) !== null) t[k] = list(r.raw(k), r.at(k), (v, p) => groupBinding(ctx, v, p));
  };
  groups("DefaultGroups");
  groups("AccessGroups");
  if (r.has("Validations") && r.raw("Validations") !== null) t.Validations = list(r.raw("Validations"), r.at("Validations"), (v, p) => rule(ctx, v, p));
  if (r.has("Conformations") && r.raw("Conformations") !== null) t.Conformations = list(r.raw("Conformations"), r.at("Conformations"), (v, p) => rule(ctx, v, p));
  if (r.has("CompositeKeys") && r.raw("CompositeKeys") !== null) {
    t.CompositeKeys = list(r.raw("CompositeKeys"), r.at("CompositeKeys"), (v, p) => list(v, p, (x, q) => str(x, q)));
  }
  explicit.set(name, new Set([...f.keys()]));
  return t;
}

const OUTCOME_KEYS = ["Type", "Method", "Reference", "Condition", "Attributes", "SkipInResponse", "LogToConsole", "ContinueOnError"] as const;

function outcome(ctx: Ctx, value: unknown, path: Path): OutcomeDef {
  const r = reader(fields(ctx, value, path, OUTCOME_KEYS), path);
  if (!r.s("Type")) throw new SchemaDecodeError(path, `${label(path)} needs a Type (a table, a performer or a response type)`);
  if (!r.s("Method")) throw new SchemaDecodeError(path, `${label(path)} needs a Method (POST, GET, GET_BY_ID, PATCH, DELETE, EXECUTE, ACTIONRESPONSE, ...)`);
  const out: OutcomeDef = { Type: r.s("Type"), Method: r.s("Method").toUpperCase() };
  if (r.s("Reference")) out.Reference = r.s("Reference");
  if (r.s("Condition")) out.Condition = r.s("Condition");
  const attrs = r.raw("Attributes");
  if (attrs !== undefined && attrs !== null) {
    if (!isObj(attrs)) throw new SchemaDecodeError(r.at("Attributes"), `${label(path)}.Attributes must be a mapping`);
    out.Attributes = attrs as Record<string, JsonValue>;
  }
  for (const k of ["SkipInResponse", "LogToConsole", "ContinueOnError"] as const) if (r.b(k)) out[k] = true;
  return out;
}

const ACTION_KEYS = [
  "Name", "Label", "OnType", "InstanceOptional", "RequestSubjectRelations", "ReferenceId", "Permission", "AccessGroups",
  "InFields", "OutFields", "Validations", "Conformations",
] as const;

function action(ctx: Ctx, value: unknown, path: Path): ActionDef {
  const r = reader(fields(ctx, value, path, ACTION_KEYS), path);
  const name = r.s("Name");
  if (!name) throw new SchemaDecodeError(path, `${label(path)} needs a Name`);
  if (!r.s("OnType")) throw new SchemaDecodeError(path, `${label(path)} (${name}) needs an OnType (the table it acts on)`);
  const def: ActionDef = {
    Name: name,
    Label: r.s("Label") || name,
    OnType: underscore(r.s("OnType")),
    InstanceOptional: r.b("InstanceOptional"),
    InFields: list(r.raw("InFields"), r.at("InFields"), (v, q) => {
      const c = column(ctx, v, q);
      return { Name: c.Name, ColumnName: c.ColumnName, ColumnType: c.ColumnType, IsNullable: c.IsNullable };
    }),
    OutFields: list(r.raw("OutFields"), r.at("OutFields"), (v, q) => outcome(ctx, v, q)),
  };
  if (r.has("Validations") && r.raw("Validations") !== null) def.Validations = list(r.raw("Validations"), r.at("Validations"), (v, q) => rule(ctx, v, q));
  if (r.has("Conformations") && r.raw("Conformations") !== null) def.Conformations = list(r.raw("Conformations"), r.at("Conformations"), (v, q) => rule(ctx, v, q));
  if (r.has("RequestSubjectRelations")) def.RequestSubjectRelations = list(r.raw("RequestSubjectRelations"), r.at("RequestSubjectRelations"), (v, q) => str(v, q));
  if (r.has("Permission") && r.raw("Permission") !== null) def.Permission = perm(r.raw("Permission"), r.at("Permission"));
  if (r.has("AccessGroups") && r.raw("AccessGroups") !== null) def.AccessGroups = list(r.raw("AccessGroups"), r.at("AccessGroups"), (v, q) => groupBinding(ctx, v, q));
  return def;
}

const TOP_KEYS = [
  "Tables", "Relations", "Actions", "StateMachineDescriptions", "ExchangeContracts", "Tasks", "Streams",
  "Imports", "EnableGraphQL", "UserGroups",
] as const;

/** Decodes an already-parsed schema value (a stored `world_schema_json`, an uploaded document). */
export function decodeSchema(value: unknown): { doc: SchemaDoc; warningPaths: { path: Path; text: string }[] } {
  const ctx: Ctx = { warnings: [] };
  const doc: SchemaDoc = { Tables: [], Relations: [], Actions: [], explicitKeys: new Map(), warnings: [] };
  if (value === null || value === undefined || value === "") return { doc, warningPaths: [] };
  const r = reader(fields(ctx, value, [], TOP_KEYS), []);
  doc.Tables = list(r.raw("Tables"), r.at("Tables"), (v, p) => table(ctx, v, p, doc.explicitKeys));
  doc.Relations = list(r.raw("Relations"), r.at("Relations"), (v, p) => relation(ctx, v, p));
  doc.Actions = list(r.raw("Actions"), r.at("Actions"), (v, p) => action(ctx, v, p));
  if (r.has("UserGroups") && r.raw("UserGroups") !== null) {
    doc.UserGroups = list(r.raw("UserGroups"), r.at("UserGroups"), (v, p) => {
      const name = groupBinding(ctx, v, p).Name.trim();
      if (!name) throw new SchemaDecodeError(p, `${label(p)} needs a group name`);
      if (name.length > 80) throw new SchemaDecodeError(p, `${label(p)}: a group name has at most 80 characters`);
      return name;
    });
  }
  return { doc, warningPaths: ctx.warnings };
}

/** The line of the node at `path` in the text (best effort: the nearest existing ancestor). */
function lineAt(text: string, path: Path): number {
  const lines = new LineCounter();
  const d = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  let node: Node | null = d.contents as Node | null;
  let line = 1;
  for (const [i, step] of path.entries()) {
    if (node?.range) line = lines.linePos(node.range[0]).line;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(step));
      if (!pair) return line;
      if (isScalar(pair.key) && pair.key.range) line = lines.linePos(pair.key.range[0]).line;
      // A path that ends on a key names that key's line (its value may start on the next one).
      if (i === path.length - 1 && !isScalar(pair.value)) return line;
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof step === "number") node = node.items[step] as Node | null;
    else return line;
  }
  if (node?.range) line = lines.linePos(node.range[0]).line;
  return line;
}

function syntaxError(text: string, file: string, message: string): SchemaParseError {
  const lines = new LineCounter();
  const d = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false });
  const e = d.errors[0];
  if (e) {
    const line = e.linePos?.[0]?.line ?? lines.linePos(e.pos[0]).line;
    return new SchemaParseError(file, line, e.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""));
  }
  return new SchemaParseError(file, 1, message);
}

/** Parses one schema file's text. `file` is used in messages and picks JSON for `.json`. */
export function parseSchema(text: string, file: string): SchemaDoc {
  let value: unknown;
  try {
    value = file.toLowerCase().endsWith(".json") ? JSON.parse(text) : Bun.YAML.parse(text);
  } catch (e) {
    throw syntaxError(text, file, (e as Error).message);
  }
  if (Array.isArray(value) && !file.toLowerCase().endsWith(".json")) value = value[0]; // first YAML document
  try {
    const { doc, warningPaths } = decodeSchema(value);
    doc.warnings = warningPaths.map((w) => `${file}:${lineAt(text, w.path)}: ${w.text}`);
    return doc;
  } catch (e) {
    if (e instanceof SchemaDecodeError) throw new SchemaParseError(file, lineAt(text, e.path), e.problem);
    throw e;
  }
}
