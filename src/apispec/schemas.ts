// JSON schemas of resources, per table and column type, plus the fixed JSON:API and action shapes.
import type { ReferenceObject, SchemaObject } from "openapi3-ts/oas30";
import { effectiveDataType, isNullable } from "../engine/db/ddl.ts";
import type { ColumnInfo, TableInfo } from "../engine/schema/registry.ts";
import { SERVER_MANAGED } from "../engine/schema/standard.ts";
import { pascal } from "./names.ts";

export const ref = (name: string): ReferenceObject => ({ $ref: `#/components/schemas/${name}` });

/**
 * An object schema that may also be null. OpenAPI 3.0 has no null type, and `nullable` beside a `$ref` is ignored;
 * a null branch in a `oneOf` (`{nullable: true, enum: [null]}`) is read by some generators as an empty type (orval
 * writes `X |  | null`). So the object schema itself, written out in place, carries `nullable: true`.
 */
const orNull = (s: SchemaObject): SchemaObject => ({ ...s, nullable: true });

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
  const resource = resourceSchema(t);
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
            properties: { data: orNull(resource), included: { type: "array", items: ref("IncludedResource") } },
          },
        }),
    [`${P}ListDocument`]: listDocument(ref(`${P}Resource`)),
  };
}

function resourceSchema(t: TableInfo): SchemaObject {
  const P = pascal(t.name);
  return {
    type: "object",
    required: ["type", "id", "attributes"],
    properties: {
      type: { type: "string", enum: [t.name] },
      id: { type: "string", format: "uuid" },
      attributes: ref(`${P}Attributes`),
      relationships: ref(`${P}Relationships`),
    },
  };
}

const listDocument = (items: SchemaObject | ReferenceObject): SchemaObject => ({
  type: "object",
  required: ["links", "data"],
  properties: {
    links: ref("PageLinks"),
    data: { type: "array", items },
    included: { type: "array", items: ref("IncludedResource") },
    meta: ref("PageMeta"),
  },
});

/**
 * The answer of a listing through a join table (`GET /api/{t}/{id}/{rel}`): the related rows, each with the join
 * row's facts among its attributes (`LinkAttributes`, and the relation's own columns). `linkRows`: the sharing
 * listings, whose resources are the links themselves (see `withJoinFacts`).
 */
export function joinListSchemas(name: string, target: TableInfo, join: TableInfo, extraColumns: ColumnInfo[], linkRows: boolean): Record<string, SchemaObject> {
  const J = pascal(join.name);
  const extras = Object.fromEntries(extraColumns.map((c) => [c.ColumnName, nullable(columnSchema(c), isNullable(c))]));
  const out: Record<string, SchemaObject> = {};
  let attributes: SchemaObject | ReferenceObject = ref("LinkAttributes");
  if (extraColumns.length) {
    out[`${J}LinkAttributes`] = { allOf: [ref("LinkAttributes"), { type: "object", properties: extras }] };
    attributes = ref(`${J}LinkAttributes`);
  }
  const item: SchemaObject = {
    description: linkRows
      ? `A link of ${join.name}: \`id\` and \`reference_id\` are the join row's (PATCH /api/${join.name}/{id} changes it), \`permission\` is the link's, \`relation_reference_id\` is the ${target.name}'s own id; no relationships.`
      : `A ${target.name} linked through ${join.name}, with the join row's facts among its attributes.`,
    allOf: [ref(`${pascal(target.name)}Resource`), { type: "object", required: ["attributes"], properties: { attributes } }],
  };
  out[name] = listDocument(item);
  return out;
}

/** The paging numbers Daptin writes in `links` (and we repeat in `meta`). */
const PAGE_NUMBERS = ["current_page", "from", "last_page", "per_page", "to", "total"] as const;
const pageNumbers: Record<string, SchemaObject> = Object.fromEntries(PAGE_NUMBERS.map((k) => [k, { type: "integer" }]));

const RESOURCE_IDENTIFIER: SchemaObject = {
  type: "object",
  required: ["type", "id"],
  properties: { type: { type: "string" }, id: { type: "string", format: "uuid" } },
};

const LINK_ITEM: SchemaObject = {
  type: "object",
  required: ["type", "id"],
  properties: {
    type: { type: "string" },
    id: { type: "string", format: "uuid" },
    attributes: { type: "object", description: "join-row columns to set, e.g. the sharing `permission`", additionalProperties: true },
  },
};

/** Linkage `data`: one item, a list of them, or null (an item schema that is nullable: see `orNull`). */
const linkage = (item: SchemaObject, name: string): SchemaObject => ({ oneOf: [orNull(item), { type: "array", items: ref(name) }] });

export const FIXED_SCHEMAS: Record<string, SchemaObject> = {
  ResourceIdentifier: RESOURCE_IDENTIFIER,
  RelationshipLinks: {
    type: "object",
    properties: { self: { type: "string" }, related: { type: "string" } },
  },
  RelationshipToOne: {
    type: "object",
    properties: { links: ref("RelationshipLinks"), data: orNull(RESOURCE_IDENTIFIER) },
  },
  RelationshipToMany: {
    type: "object",
    properties: { links: ref("RelationshipLinks"), data: { type: "array", items: ref("ResourceIdentifier") } },
  },
  RelationshipInput: {
    type: "object",
    required: ["data"],
    description: "to-one: {data: {type, id}} or {data: null}; to-many: {data: [{type, id, attributes?: {permission}}]}",
    properties: { data: linkage(LINK_ITEM, "LinkItem") },
  },
  LinkItem: LINK_ITEM,
  LinkageDocument: {
    type: "object",
    required: ["data"],
    properties: {
      links: ref("RelationshipLinks"),
      data: linkage(RESOURCE_IDENTIFIER, "ResourceIdentifier"),
    },
  },
  LinkageRequest: {
    type: "object",
    required: ["data"],
    properties: {
      data: linkage(LINK_ITEM, "LinkItem"),
      meta: {
        type: "object",
        properties: {
          replace: { type: "boolean", description: "PATCH of a to-many relation: replace the whole set with data (without it, PATCH adds, as in Daptin)" },
        },
      },
    },
  },
  LinkAttributes: {
    type: "object",
    description: "the join row's facts, added to the attributes of a row listed through a join table",
    required: ["join_reference_id", "relation_reference_id", "relation_permission"],
    properties: {
      join_reference_id: { type: "string", format: "uuid", description: "the join row (PATCH or DELETE it at /api/{join table}/{id})" },
      relation_reference_id: { type: "string", format: "uuid", description: "the related row's own id" },
      relation_permission: { type: "integer", description: "the join row's permission (for sharing rows: what the group may do with the row)" },
      relation_created_at: { type: "string", nullable: true, description: "when the link was made" },
      relation_updated_at: { type: "string", nullable: true, description: "when the link last changed" },
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
