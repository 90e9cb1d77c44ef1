// Schema definitions as written in schema files (spec 10 section 2), after parsing and name normalisation.
// Field names are Daptin's, so a stored `world.world_schema_json` of a Daptin instance reads the same way.

import type { ActionDef } from "../actions/types.ts";

export type RelationKind = "belongs_to" | "has_one" | "has_many" | "has_many_and_belongs_to_many";
export const RELATION_KINDS: RelationKind[] = ["belongs_to", "has_one", "has_many", "has_many_and_belongs_to_many"];

/** What happens to rows that point at a deleted row through a to-one relation (ours; Daptin never reads it). */
export type OnDelete = "restrict" | "set_null" | "cascade";

export interface ColumnOption {
  Value: string;
  Label?: string;
  ValueType?: string;
}

export interface ForeignKeyData {
  DataSource: string;
  Namespace: string;
  KeyName: string;
}

export interface ColumnDef {
  Name: string;
  ColumnName: string;
  ColumnType: string;
  DataType: string;
  IsNullable: boolean;
  DefaultValue: string;
  IsUnique: boolean;
  IsIndexed: boolean;
  IsPrimaryKey: boolean;
  IsAutoIncrement: boolean;
  IsForeignKey: boolean;
  ForeignKeyData?: ForeignKeyData;
  ExcludeFromApi: boolean;
  ColumnDescription: string;
  Options?: ColumnOption[];
}

export interface RelationDef {
  Subject: string;
  Relation: RelationKind;
  Object: string;
  SubjectName: string;
  ObjectName: string;
  Columns?: ColumnDef[];
  OnDelete?: OnDelete;
}

export interface GroupBinding {
  Name: string;
  Permission?: number;
}

export interface RuleDef {
  ColumnName: string;
  Tags: string;
}

export interface TableDef {
  TableName: string;
  Columns: ColumnDef[];
  Relations: RelationDef[];
  /** 0 = "the instance's current default" (2097151 before an administrator exists, 561441 after). */
  DefaultPermission: number;
  Permission: number;
  DefaultGroups?: GroupBinding[];
  AccessGroups?: GroupBinding[];
  IsHidden: boolean;
  IsJoinTable: boolean;
  IsTopLevel: boolean;
  IsStateTrackingEnabled: boolean;
  IsAuditEnabled: boolean;
  TranslationsEnabled: boolean;
  Validations?: RuleDef[];
  Conformations?: RuleDef[];
  DefaultOrder: string;
  CompositeKeys?: string[][];
  Icon: string;
  TableDescription: string;
}

/** One schema file's content. Actions, tasks, streams etc. are kept raw until their issues land. */
export interface SchemaDoc {
  Tables: TableDef[];
  Relations: RelationDef[];
  Actions: ActionDef[];
  /** User groups the schema needs (`UserGroups`, our extension): created at apply when missing, never removed. */
  UserGroups?: string[];
  /** Raw keys present per table, to tell "explicitly false" from "omitted" when merging (spec 10 section 7.2). */
  explicitKeys: Map<string, Set<string>>;
  warnings: string[];
}
