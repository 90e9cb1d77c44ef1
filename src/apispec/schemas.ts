// JSON schemas of resources, per table and column type, plus the fixed JSON:API and action shapes.
import type { ReferenceObject, SchemaObject } from "openapi3-ts/oas30";
import { effectiveDataType, isNullable } from "../engine/db/ddl.ts";
import type { ColumnInfo, TableInfo } from "../engine/schema/registry.ts";
import { SERVER_MANAGED } from "../engine/schema/standard.ts";
import { pascal } from "./names.ts";

export const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });

/** OpenAPI 3.0 has no null type; this is its spelling of "null" as a oneOf branch. */
const NULL: SchemaObject = { type: "object", nullable: true, enum: [null] };

/** A reference that may also be null (`nullable` beside a `$ref` or `allOf` is ignored or ambiguous in 3.0). */
export const nullableRef = (name: string): SchemaObject => ({ oneOf: [ref(name), NULL] });

const INTEGER = /^(int|integer|bigint|smallint|tinyint|mediumint)\b/i;

/** One attribute's schema, as the server reads it back. */
export function columnSchema(c: ColumnInfo): SchemaObject {
  const s: SchemaObject = {};
  const type = c.ColumnType.toLowerCase();
  if (c.references || c.ColumnName === "reference_id") Object.assign(s, { type: "string", format: "uuid" });
  else {
    switch (c.family.name) {
      case "boolean": s.type = "boolean"; break;
      case "number": s.type = INTEGER.test(effectiveDataType(c)) ? "integer" : "number"; break;
      case "time":
        s.type = "string";
        if (type === "date") s.format = "date";
        else if (type !== "time") s.format = "date-time";
        break;
      case "json": case "file": break; // any JSON value
      case "password": Object.assign(s, { type: "string", format: "password" }); break;
      case "enum":
        s.type = "string";
        if (c.Options?.length) s.enum = c.Options.map((o) => o.Value.toLowerCase());
        break;
      default:
        s.type = "string";
        if (type === "email") s.format = "email";
        else if (type === "url") s.format = "uri";
    }
  }
  if (c.ColumnDescription) s.description = c.ColumnDescription;
  return s;
}

const nullable = (s: SchemaObject, yes: boolean): SchemaObject => (yes && s.type ? { ...s, nullable: true } : s);

function readOnlyColumn(c: ColumnInfo): boolean {
  return SERVER_MANAGED.has(c.ColumnName);
}

/** `<T>Attributes`: what a read returns. */
export function attributesSchema(t: TableInfo): SchemaObject {
  const properties: Record<string, SchemaObject | ReferenceObject> = {
    __type: { type: "string", enum: [t.name], readOnly: true },
  };
  for (const c of t.apiColumns) {
    const s = nullable(columnSchema(c), isNullable(c) || c.references !== undefined);
    if (readOnlyColumn(c)) s.readOnly = true;
    if (c.family.name === "password") s.description = "always returned as an empty string";
    properties[c.ColumnName] = s;
  }
  return { type: "object", properties, required: ["__type", "reference_id", "permission"] };
}

/** Writable attributes: declared columns, `permission` on update, the owner on update. */
export function writableColumns(t: TableInfo, mode: "create" | "update"): ColumnInfo[] {
  return t.apiColumns.filter((c) => {
    if (SERVER_MANAGED.has(c.ColumnName)) return false;
    if (mode === "create" && (c.ColumnName === "permission" || (c.ColumnName === "user_account_id" && t.hasOwner))) return false;
    return true;
  });
}

export function writeAttributesSchema(t: TableInfo, mode: "create" | "update"): SchemaObject {
  const properties: Record<string, SchemaObject> = {};
  const required: string[] = [];
  for (const c of writableColumns(t, mode)) {
    const s = nullable(columnSchema(c), isNullable(c));
    if (c.family.name === "password") s.writeOnly = true;
    if (c.ColumnName === "permission") {
      s.description = "the 22-bit permission integer (the symbolic form {guest: [...], owner: all, group: [...]} is accepted too)";
    }
    if (c.references) s.description = `reference id of a ${c.references.table}`;
    properties[c.ColumnName] = s;
    if (mode === "create" && !c.IsNullable && c.DefaultValue === "" && !isNullable(c)) required.push(c.ColumnName);
  }
  if (mode === "update") {
    properties.version = { type: "integer", description: "send the version you read to make the update fail with 409 if the row changed meanwhile" };
  }
  return { type: "object", properties, ...(required.length ? { required } : {}) };
}

export function relationshipsSchema(t: TableInfo): SchemaObject {
  const properties: Record<string, ReferenceObject> = {};
  for (const r of [...t.relations.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    properties[r.name] = ref(r.toMany ? "RelationshipToMany" : "RelationshipToOne");
  }
  return { type: "object", properties };
}

/** The per-table component schemas. */
export function tableSchemas(t: TableInfo): Record<string, SchemaObject> {
  const P = pascal(t.name);
  const resource: SchemaObject = {
    type: "object",
    required: ["type", "id", "attributes"],
    properties: {
      type: { type: "string", enum: [t.name] },
      id: { type: "string", format: "uuid" },
      attributes: ref(`${P}Attributes`),
      relationships: ref(`${P}Relationships`),
    },
  };
  const writeData = (mode: "create" | "update"): SchemaObject => ({
    type: "object",
    required: mode === "create" ? ["type", "attributes"] : ["type"],
    properties: {
      type: { type: "string", enum: [t.name] },
      id: { type: "string", format: "uuid", description: mode === "create" ? "optional client-generated id" : "must equal the id in the path when given" },
      attributes: ref(`${P}${mode === "create" ? "Create" : "Update"}Attributes`),
      relationships: { type: "object", additionalProperties: ref("RelationshipInput") },
    },
  });
  return {
    [`${P}Attributes`]: attributesSchema(t),
    [`${P}Relationships`]: relationshipsSchema(t),
    [`${P}Resource`]: resource,
    [`${P}CreateAttributes`]: writeAttributesSchema(t, "create"),
    [`${P}UpdateAttributes`]: writeAttributesSchema(t, "update"),
    [`${P}CreateRequest`]: { type: "object", required: ["data"], properties: { data: writeData("create") } },
    [`${P}UpdateRequest`]: { type: "object", required: ["data"], properties: { data: writeData("update") } },
    [`${P}Document`]: {
      type: "object",
      required: ["data"],
      properties: { data: ref(`${P}Resource`), included: { type: "array", items: ref("IncludedResource") } },
    },
    // The answer of a to-one related route; join tables are never the target of one.
    ...(t.isJoin
      ? {}
      : {
          [`${P}OneDocument`]: {
            type: "object",
            required: ["data"],
            properties: { data: nullableRef(`${P}Resource`), included: { type: "array", items: ref("IncludedResource") } },
          },
        }),
    [`${P}ListDocument`]: {
      type: "object",
      required: ["links", "data"],
      properties: {
        links: ref("PageLinks"),
        data: { type: "array", items: ref(`${P}Resource`) },
        included: { type: "array", items: ref("IncludedResource") },
        meta: ref("PageMeta"),
      },
    },
  };
}

/** The paging numbers Daptin writes in `links` (and we repeat in `meta`). */
const PAGE_NUMBERS = ["current_page", "from", "last_page", "per_page", "to", "total"] as const;
const pageNumbers: Record<string, SchemaObject> = Object.fromEntries(PAGE_NUMBERS.map((k) => [k, { type: "integer" }]));

export const FIXED_SCHEMAS: Record<string, SchemaObject> = {
  ResourceIdentifier: {
    type: "object",
    required: ["type", "id"],
    properties: { type: { type: "string" }, id: { type: "string", format: "uuid" } },
  },
  RelationshipLinks: {
    type: "object",
    properties: { self: { type: "string" }, related: { type: "string" } },
  },
  RelationshipToOne: {
    type: "object",
    properties: { links: ref("RelationshipLinks"), data: nullableRef("ResourceIdentifier") },
  },
  RelationshipToMany: {
    type: "object",
    properties: { links: ref("RelationshipLinks"), data: { type: "array", items: ref("ResourceIdentifier") } },
  },
  RelationshipInput: {
    type: "object",
    required: ["data"],
    description: "to-one: {data: {type, id}} or {data: null}; to-many: {data: [{type, id, attributes?: {permission}}]}",
    properties: { data: { oneOf: [ref("LinkItem"), { type: "array", items: ref("LinkItem") }, NULL] } },
  },
  LinkItem: {
    type: "object",
    required: ["type", "id"],
    properties: {
      type: { type: "string" },
      id: { type: "string", format: "uuid" },
      attributes: { type: "object", description: "join-row columns to set, e.g. the sharing `permission`", additionalProperties: true },
    },
  },
  LinkageDocument: {
    type: "object",
    required: ["data"],
    properties: {
      links: ref("RelationshipLinks"),
      data: { oneOf: [ref("ResourceIdentifier"), { type: "array", items: ref("ResourceIdentifier") }, NULL] },
    },
  },
  LinkageRequest: {
    type: "object",
    required: ["data"],
    properties: {
      data: { oneOf: [ref("LinkItem"), { type: "array", items: ref("LinkItem") }, NULL] },
      meta: {
        type: "object",
        properties: {
          replace: { type: "boolean", description: "PATCH of a to-many relation: replace the whole set with data (without it, PATCH adds, as in Daptin)" },
        },
      },
    },
  },
  DeletedDocument: { type: "object", required: ["meta"], properties: { meta: { type: "object" } } },
  IncludedResource: {
    type: "object",
    required: ["type", "id", "attributes"],
    properties: {
      type: { type: "string" },
      id: { type: "string", format: "uuid" },
      attributes: { type: "object", additionalProperties: true },
      relationships: { type: "object", additionalProperties: true },
    },
  },
  PageLinks: {
    type: "object",
    required: [...PAGE_NUMBERS],
    properties: {
      ...pageNumbers,
      first_page_url: { type: "string" },
      prev_page_url: { type: "string" },
      next_page_url: { type: "string" },
      last_page_url: { type: "string" },
    },
  },
  PageMeta: {
    type: "object",
    description: "the numbers of `links`, where JSON:API allows numbers",
    required: [...PAGE_NUMBERS],
    properties: pageNumbers,
  },
  ErrorDocument: {
    type: "object",
    required: ["errors"],
    properties: {
      errors: {
        type: "array",
        items: {
          type: "object",
          required: ["status", "title"],
          properties: {
            status: { type: "string", description: "the HTTP status, as text" },
            title: { type: "string" },
            detail: { type: "string" },
            code: { type: "string" },
            source: { type: "object", properties: { pointer: { type: "string" }, parameter: { type: "string" } } },
          },
        },
      },
    },
  },
  ActionResponse: {
    type: "object",
    required: ["ResponseType", "Attributes"],
    properties: {
      ResponseType: { type: "string", description: "client.notify, client.redirect, client.store.set, client.cookie.set, ..." },
      Attributes: { type: "object", nullable: true, additionalProperties: true },
    },
  },
  ActionResponses: { type: "array", items: ref("ActionResponse") },
};
