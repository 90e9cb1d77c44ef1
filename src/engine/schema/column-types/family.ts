// A column type family: how values of a Daptin ColumnType travel between JSON and SQL.
import type { ColumnDef } from "../types.ts";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** What a family needs to know about the column it converts. */
export type ColumnLike = Pick<ColumnDef, "ColumnName" | "ColumnType" | "DataType" | "Options">;

export class ValueError extends Error {}

/** What some conversions need from the instance (the encryption key). */
export interface ConversionContext {
  encryptionSecret?: string;
}

export interface ColumnFamily {
  readonly name: string;
  /** JSON schema type for documentation (OpenAPI) and for `/meta`. */
  readonly jsonType: "string" | "number" | "integer" | "boolean" | "object";
  readonly format?: string;
  /** JSON -> SQL value. Throws ValueError with a message fit for the client. May be async (hashing). */
  toDb(value: JsonValue, col: ColumnLike, ctx?: ConversionContext): unknown | Promise<unknown>;
  /** A synchronous `toDb` for families whose `toDb` is async (hashing), used inside action transactions. */
  toDbSync?(value: JsonValue, col: ColumnLike, ctx?: ConversionContext): unknown;
  /** SQL -> JSON value. */
  fromDb(value: unknown, col: ColumnLike): JsonValue;
  /** Values are compared with the stored one in PATCH change detection; hashed families always count as changed. */
  readonly opaque?: boolean;
}

const NUMERIC_DATATYPE = /^(int|integer|bigint|smallint|tinyint|mediumint|float|double|real|decimal|numeric)\b/i;
export const isNumericDataType = (dataType: string) => NUMERIC_DATATYPE.test(dataType.trim());
export const isIntegerDataType = (dataType: string) => /^(int|integer|bigint|smallint|tinyint|mediumint)\b/i.test(dataType.trim());
