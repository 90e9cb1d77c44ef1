// `/jsmodel/{t}` and `/meta?query=column_types`: the column model a dashboard needs (spec 20 sections 7.3, 7.4).
import type { ActionDef } from "../engine/actions/types.ts";
import { familyOf, KNOWN_COLUMN_TYPES } from "../engine/schema/column-types/index.ts";
import type { TableInfo } from "../engine/schema/registry.ts";
import { columnSchema } from "./schemas.ts";

const COLUMN_FIELDS = [
  "Name", "ColumnName", "ColumnDescription", "ColumnType", "IsPrimaryKey", "IsAutoIncrement", "IsIndexed", "IsUnique",
  "IsNullable", "IsForeignKey", "ExcludeFromApi", "ForeignKeyData", "DataType", "DefaultValue", "Options",
] as const;

export function jsModel(t: TableInfo, actions: ActionDef[]): Record<string, unknown> {
  const model: Record<string, unknown> = {
    __type: { Name: "type", ColumnName: "__type", ColumnType: "hidden", DataType: "", IsNullable: false },
  };
  for (const c of t.apiColumns) {
    if (c.references) continue; // shown as relations below
    const info: Record<string, unknown> = { Permission: 0 };
    for (const k of COLUMN_FIELDS) info[k] = c[k] ?? (k === "ForeignKeyData" ? { DataSource: "", Namespace: "", KeyName: "" } : k === "Options" ? null : "");
    model[c.ColumnName] = info;
  }
  if (model.reference_id) model.relation_reference_id = { ...(model.reference_id as object), ColumnName: "relation_reference_id" };
  for (const r of t.relations.values()) {
    model[r.name] = { jsonApi: r.toMany ? "hasMany" : "hasOne", columnType: "entity", type: r.target, ColumnName: r.name };
  }
  return {
    ColumnModel: model,
    Actions: actions.map((a) => ({ ...a, OutFields: null })),
    StateMachines: [],
    IsStateMachineEnabled: false,
  };
}

export function columnTypeCatalogue(): Record<string, unknown> {
  return Object.fromEntries(
    KNOWN_COLUMN_TYPES.map((name) => {
      const family = familyOf({ ColumnName: name, ColumnType: name, DataType: "" });
      const schema = columnSchema({ ColumnName: name, ColumnType: name, DataType: "", family } as never);
      const graphql = { boolean: "Boolean", number: "Float", integer: "Int" }[String(schema.type)] ?? "String";
      // Daptin's keys (its validation lists are metadata only, there as here), plus the JSON format we document.
      return [name, {
        Name: name, BlueprintType: schema.type ?? "object", ReclineType: schema.type ?? "object", Validations: [], Conformations: [],
        DataTypes: [], GraphqlType: { name: graphql, description: "" }, JsonFormat: schema.format ?? "", Family: family.name,
      }];
    }),
  );
}
