// Merging table definitions (spec 10 section 7.2): several files, then the stored `world` definition.
import type { ColumnDef, RelationDef, TableDef } from "./types.ts";

export type MergeMode = "partial" | "full";

export function relationKey(r: RelationDef): string {
  const kind = r.Relation === "has_one" ? "belongs_to" : r.Relation === "has_many_and_belongs_to_many" ? "has_many" : r.Relation;
  return `${r.Subject}|${r.SubjectName}|${kind}|${r.Object}|${r.ObjectName}`;
}

function mergeColumn(base: ColumnDef, over: ColumnDef, mode: MergeMode): ColumnDef {
  if (mode === "full") {
    const out = { ...base, ...over };
    // Keep an asset column's storage when the newer definition says nothing about it.
    if (base.ForeignKeyData?.DataSource === "cloud_store" && !over.IsForeignKey) {
      out.IsForeignKey = base.IsForeignKey;
      out.ForeignKeyData = base.ForeignKeyData;
    }
    return out;
  }
  const out = { ...base };
  for (const k of ["DefaultValue", "ColumnType", "DataType", "ColumnDescription"] as const) if (over[k]) out[k] = over[k];
  for (const k of ["ExcludeFromApi", "IsIndexed", "IsNullable", "IsUnique", "IsPrimaryKey"] as const) if (over[k]) out[k] = true;
  if (over.Options?.length) out.Options = over.Options;
  if (over.IsForeignKey || over.ForeignKeyData) out.IsForeignKey = true;
  if (over.ForeignKeyData) out.ForeignKeyData = { ...(base.ForeignKeyData ?? over.ForeignKeyData), ...over.ForeignKeyData };
  return out;
}

export function mergeColumns(base: ColumnDef[], over: ColumnDef[], mode: MergeMode): ColumnDef[] {
  const out = base.map((c) => ({ ...c }));
  const index = new Map(out.map((c, i) => [c.ColumnName, i]));
  for (const c of over) {
    const i = index.get(c.ColumnName);
    if (i === undefined) {
      index.set(c.ColumnName, out.length);
      out.push({ ...c });
    } else out[i] = mergeColumn(out[i]!, c, mode);
  }
  return out;
}

export function mergeRelations(base: RelationDef[], over: RelationDef[]): RelationDef[] {
  const out = [...base];
  const seen = new Set(base.map(relationKey));
  for (const r of over) {
    const k = relationKey(r);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(r);
    } else if (r.OnDelete) {
      const i = out.findIndex((x) => relationKey(x) === k);
      out[i] = { ...out[i]!, OnDelete: r.OnDelete };
    }
  }
  return out;
}

/**
 * `over` is merged into `base`. Full override (a file over the stored definition): flags are always taken from
 * `over`. Partial (a later file over an earlier one): only what `over` says explicitly.
 */
export function mergeTable(base: TableDef, over: TableDef, mode: MergeMode, explicit?: Set<string>): TableDef {
  const out: TableDef = {
    ...base,
    Columns: mergeColumns(base.Columns, over.Columns, mode),
    Relations: mergeRelations(base.Relations, over.Relations),
  };
  for (const k of ["DefaultGroups", "AccessGroups", "Validations", "Conformations", "CompositeKeys"] as const) {
    if (over[k] !== undefined) (out as unknown as Record<string, unknown>)[k] = over[k];
  }
  if (over.DefaultPermission) out.DefaultPermission = over.DefaultPermission;
  if (over.Permission) out.Permission = over.Permission;
  const flags = ["IsStateTrackingEnabled", "TranslationsEnabled", "IsAuditEnabled", "IsHidden", "IsJoinTable"] as const;
  const texts = ["DefaultOrder", "Icon", "TableDescription"] as const;
  for (const k of flags) if (mode === "full" || over[k] || explicit?.has(k)) out[k] = over[k];
  for (const k of texts) if ((mode === "full" && over[k]) || over[k] || explicit?.has(k)) out[k] = over[k];
  return out;
}
