// Operations: each table's CRUD, its relation routes, and its actions.
import type { OperationObject, ParameterObject, PathItemObject, ReferenceObject, RequestBodyObject, ResponseObject, SchemaObject } from "openapi3-ts/oas30";
import type { ActionDef } from "../engine/actions/types.ts";
import { DEFAULT_PAGE_SIZE, LIST_LIMITS, MAX_OFFSET, MAX_PAGE_SIZE } from "../engine/data/list.ts";
import { joinExtraColumns, listsLinkRows, RELATED_PAGE_SIZE } from "../engine/data/relations.ts";
import { familyOf } from "../engine/schema/column-types/index.ts";
import type { RelationInfo, TableInfo } from "../engine/schema/registry.ts";
import { columnSchema, joinListSchemas, ref } from "./schemas.ts";
import { pascal, type UniqueIds } from "./names.ts";

const JSONAPI = "application/vnd.api+json";
const param = (name: string): ReferenceObject => ({ $ref: `#/components/parameters/${name}` });
const response = (name: string): ReferenceObject => ({ $ref: `#/components/responses/${name}` });
/** Request bodies: the server reads either media type. */
const jsonApiContent = (schema: string) => ({ [JSONAPI]: { schema: ref(schema) }, "application/json": { schema: ref(schema) } });
/** Responses: application/vnd.api+json, or the same body as application/json when `Accept` asks only for that. */
const jsonApiResponse = (schema: string) => ({ [JSONAPI]: { schema: ref(schema) }, "application/json": { schema: ref(schema) } });

const ok = (description: string, schema: string): ResponseObject => ({ description, content: jsonApiResponse(schema) });

export const FIXED_PARAMETERS: Record<string, ParameterObject> = {
  Id: { name: "id", in: "path", required: true, description: "the resource's reference id", schema: { type: "string", format: "uuid" } },
  // Defaults are stated in the descriptions, not as `default`: generators turn a `default` into a value they send
  // (openapi-typescript-codegen sends page[number]=1&page[size]=10 with every call, and page[offset] is then a 400).
  PageNumber: { name: "page[number]", in: "query", description: "1-based page number (default 1)", schema: { type: "integer", minimum: 1 } },
  PageSize: { name: "page[size]", in: "query", description: `rows per page, at most ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})`, schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE } },
  RelatedPageSize: {
    name: "page[size]",
    in: "query",
    description: `rows per page, at most ${MAX_PAGE_SIZE} (default ${RELATED_PAGE_SIZE}: related rows come ${RELATED_PAGE_SIZE} at a time unless asked otherwise)`,
    schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE },
  },
  PageOffset: {
    name: "page[offset]",
    in: "query",
    description: "JSON:API offset paging: rows to skip, default 0 (instead of page[number]; the page links then use page[offset])",
    schema: { type: "integer", minimum: 0, maximum: MAX_OFFSET },
  },
  PageLimit: { name: "page[limit]", in: "query", description: `JSON:API offset paging: rows per page (instead of page[size]; at most ${MAX_PAGE_SIZE})`, schema: { type: "integer", minimum: 1, maximum: MAX_PAGE_SIZE } },
  PageAfter: {
    name: "page[after]",
    in: "query",
    description: "Daptin's cursor: only rows stored after this row (its reference id), in internal order; with sort=id this pages by row. The total still counts the whole list. Not with page[number] or page[offset].",
    schema: { type: "string", format: "uuid" },
  },
  PageBefore: {
    name: "page[before]",
    in: "query",
    description: "Daptin's cursor: only rows stored before this row (its reference id); with sort=-id this pages backwards.",
    schema: { type: "string", format: "uuid" },
  },
  Sort: {
    name: "sort",
    in: "query",
    description: `comma-separated columns, at most ${LIST_LIMITS.sortKeys}; a leading - sorts descending (e.g. -created_at,name)`,
    schema: { type: "string" },
  },
  Query: {
    name: "query",
    in: "query",
    description:
      'JSON array of filters [{"column","operator","value","logical_group"?}]. Operators: is, eq, neq, is not, contains, not contains, begins with, ends with, like, not like, ilike, not ilike, more than, after, gt, gte, less than, before, lt, lte, in, any of, none of, between, is empty, is not empty, is true, is false, fuzzy, fuzzy_any, fuzzy_all. Filters in the same logical_group are ORed, the rest ANDed.',
    schema: { type: "string" },
  },
  Filter: {
    name: "filter",
    in: "query",
    description:
      `keyword search over the indexed name, label and email columns (comma-separated terms, at most ${LIST_LIMITS.filterTerms}). ` +
      "JSON:API style: filter[column]=a,b keeps rows whose column is one of the values (null for NULL; filter[id] takes reference ids); filter[relation]=<id>,<id> as the relation parameter. Any other parameter is a 400.",
    schema: { type: "string" },
  },
  Fields: { name: "fields", in: "query", description: "comma-separated attributes to return", schema: { type: "string" } },
  IncludedRelations: { name: "included_relations", in: "query", description: "comma-separated relation names (or * for every to-one relation) to load into `included`", schema: { type: "string" } },
  Include: { name: "include", in: "query", description: "JSON:API spelling of included_relations", schema: { type: "string" } },
};

export const FIXED_RESPONSES: Record<string, ResponseObject> = {
  BadRequest: { description: "malformed request (bad JSON, unknown column or parameter)", content: jsonApiResponse("ErrorDocument") },
  Unauthorized: { description: "the token is invalid, expired or stale", content: jsonApiResponse("ErrorDocument") },
  Forbidden: { description: "the permission gate said no", content: jsonApiResponse("ErrorDocument") },
  NotFound: { description: "no such table, row or relation", content: jsonApiResponse("ErrorDocument") },
  Conflict: { description: "version conflict, duplicate value, or a delete blocked by dependants", content: jsonApiResponse("ErrorDocument") },
  Unprocessable: { description: "the input breaks a rule of the schema", content: jsonApiResponse("ErrorDocument") },
  ActionFailed: { description: "the action failed; one client.notify item of type error says why", content: { "application/json": { schema: ref("ActionResponses") } } },
  Linkage: { description: "resource identifiers", content: jsonApiResponse("LinkageDocument") },
  Done: { description: "done" },
};

/** Shared request bodies (each relation route would otherwise repeat them: the document stays small). */
export const FIXED_REQUEST_BODIES: Record<string, RequestBodyObject> = {
  Linkage: { required: true, content: jsonApiContent("LinkageRequest") },
};

const errors = (...codes: string[]): Record<string, ReferenceObject> => {
  const names: Record<string, string> = { "400": "BadRequest", "401": "Unauthorized", "403": "Forbidden", "404": "NotFound", "409": "Conflict", "422": "Unprocessable" };
  return Object.fromEntries(codes.map((c) => [c, response(names[c]!)]));
};

const LIST_PARAMS = ["PageNumber", "PageSize", "PageOffset", "PageLimit", "Sort", "Query", "Filter", "Fields", "IncludedRelations", "Include"].map(param);
const RELATED_PARAMS = ["PageNumber", "RelatedPageSize", "PageOffset", "PageLimit", "Sort", "Query", "Filter", "Fields", "IncludedRelations", "Include"].map(param);

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/**
 * The list parameters of table `t` besides the fixed ones, as references to components that tables share (one per
 * column name, `Filter_{column}`, and per relation name, `Link_{relation}`), added to `components`. A list of `t`
 * and every related listing of `t` rows use them. In the order operations list them: the to-one relation filters
 * first, where they always were, then the rest, so the positional arguments of clients generated from an earlier
 * document keep their places.
 */
export function listParameters(t: TableInfo, shown: ReadonlySet<string>, components: Record<string, ParameterObject>): ReferenceObject[] {
  const relations = [...t.relations.values()].filter((r) => shown.has(r.target)).sort(byName);
  const relationParam = (r: RelationInfo): ReferenceObject => {
    // A relation named as Daptin names it (`{target}_id`) says its target; another name may mean another target.
    const key = r.name === `${r.target}_id` ? `Link_${r.name}` : `Link_${r.name}_${r.target}`;
    components[key] ??= { name: r.name, in: "query", description: `rows linked to one of these ${r.target} rows (comma-separated ids; also filter[${r.name}])`, schema: { type: "string" } };
    return param(key);
  };
  const filterParam = (name: string, description: string): ReferenceObject => {
    components[`Filter_${name}`] ??= { name: `filter[${name}]`, in: "query", description, schema: { type: "string" } };
    return param(`Filter_${name}`);
  };
  const toOne = relations.filter((r) => r.storage.kind === "fk_here").map(relationParam);
  const others = relations.filter((r) => r.storage.kind !== "fk_here").map(relationParam);
  // Columns holding ids of other tables are filtered through their relation (above, when that table is shown);
  // filter[relation] is accepted too, but not declared again beside ?relation (the same filter, under two names).
  const columns = t.apiColumns.filter((c) => !c.references && c.family.name !== "password" && c.ColumnName !== "reference_id" && !t.relations.has(c.ColumnName));
  const filters = [
    { name: "id", description: "rows with one of these ids (comma-separated; also filter[reference_id])" },
    ...columns.map((c) => ({ name: c.ColumnName, description: `rows whose ${c.ColumnName} is one of these values (comma-separated; null matches NULL)` })),
  ]
    .sort(byName)
    .map((f) => filterParam(f.name, f.description));
  return [...toOne, param("PageAfter"), param("PageBefore"), ...others, ...filters];
}

/** `/api/{t}` and `/api/{t}/{id}`. `filters`: the table's list parameters from `listParameters`. */
export function tablePaths(t: TableInfo, ids: UniqueIds, filters: ReferenceObject[]): Record<string, PathItemObject> {
  const P = pascal(t.name);
  const tags = [t.name];
  const list: OperationObject = {
    operationId: ids.take(`list${P}`),
    tags,
    summary: `List ${t.name}`,
    parameters: [...LIST_PARAMS, ...filters],
    responses: { "200": ok(`a page of ${t.name}`, `${P}ListDocument`), ...errors("400", "401", "403", "404") },
  };
  const create: OperationObject = {
    operationId: ids.take(`create${P}`),
    tags,
    summary: `Create a ${t.name}`,
    requestBody: { required: true, content: jsonApiContent(`${P}CreateRequest`) },
    responses: { "201": ok(`the created ${t.name}`, `${P}Document`), ...errors("400", "401", "403", "404", "409", "422") },
  };
  const get: OperationObject = {
    operationId: ids.take(`get${P}`),
    tags,
    summary: `Read a ${t.name}`,
    parameters: [param("IncludedRelations"), param("Include")],
    responses: { "200": ok(`the ${t.name}`, `${P}Document`), ...errors("400", "401", "403", "404") },
  };
  const update: OperationObject = {
    operationId: ids.take(`update${P}`),
    tags,
    summary: `Change attributes of a ${t.name}`,
    requestBody: { required: true, content: jsonApiContent(`${P}UpdateRequest`) },
    responses: { "200": ok(`the updated ${t.name}`, `${P}Document`), ...errors("400", "401", "403", "404", "409", "422") },
  };
  const del: OperationObject = {
    operationId: ids.take(`delete${P}`),
    tags,
    summary: `Delete a ${t.name}`,
    responses: {
      "200": { description: "deleted", content: jsonApiResponse("DeletedDocument") },
      ...errors("400", "401", "403", "404", "409"),
    },
  };
  return {
    [`/api/${t.name}`]: { get: list, post: create },
    [`/api/${t.name}/{id}`]: { parameters: [param("Id")], get, patch: update, delete: del },
  };
}

/** What `relationPaths` needs of the tables around a relation. */
export interface RelationContext {
  /** The related table; `filters`: its list parameters (`listParameters`). */
  target: TableInfo;
  filters: ReferenceObject[];
  /** The join table, for a relation through one. */
  join?: TableInfo;
}

/**
 * `/api/{t}/{id}/{relation}` and `/api/{t}/{id}/relationships/{relation}` for one relation, and the schemas of a
 * listing through a join table (its rows carry the join row's facts; the sharing listings list the links).
 */
export function relationPaths(t: TableInfo, rel: RelationInfo, ids: UniqueIds, ctx: RelationContext): { paths: Record<string, PathItemObject>; schemas: Record<string, SchemaObject> } {
  const P = pascal(t.name);
  const R = pascal(rel.name);
  const T = pascal(rel.target);
  const tags = [t.name];
  const linkRows = listsLinkRows(t, rel);
  let document = `${T}ListDocument`;
  let schemas: Record<string, SchemaObject> = {};
  if (rel.toMany && ctx.join) {
    document = `${P}${R}ListDocument`;
    schemas = joinListSchemas(document, ctx.target, ctx.join, joinExtraColumns(ctx.join), linkRows);
  }
  const related: OperationObject = rel.toMany
    ? {
        operationId: ids.take(`list${P}${R}`),
        tags,
        summary: linkRows ? `The links of ${rel.name}: one resource per join row of ${ctx.join?.name}` : `The ${rel.target} rows linked through ${rel.name}`,
        parameters: [...RELATED_PARAMS, ...ctx.filters],
        responses: { "200": ok(linkRows ? `a page of links to ${rel.target}` : `a page of ${rel.target}`, document), ...errors("400", "401", "403", "404") },
      }
    : {
        operationId: ids.take(`get${P}${R}`),
        tags,
        summary: `The ${rel.target} linked through ${rel.name}`,
        responses: {
          "200": {
            description: `the linked ${rel.target}, or null`,
            content: jsonApiResponse(`${T}OneDocument`),
          },
          ...errors("400", "401", "403", "404"),
        },
      };
  const body: ReferenceObject = { $ref: "#/components/requestBodies/Linkage" };
  const done = { "204": response("Done"), ...errors("400", "401", "403", "404", "409", "422") };
  const relationships: PathItemObject = {
    parameters: [param("Id")],
    get: {
      operationId: ids.take(`get${P}${R}Relationship`),
      tags,
      summary: `The linkage of ${rel.name}`,
      responses: { "200": response("Linkage"), ...errors("400", "401", "403", "404") },
    },
    patch: {
      // The id says "replace" since it was first published; for a to-many set the operation adds, as in Daptin.
      operationId: ids.take(`replace${P}${R}Relationship`),
      tags,
      summary: rel.toMany ? `Add links to ${rel.name} (with meta.replace: true, replace the whole set)` : `Set or clear (null) ${rel.name}`,
      description: rel.toMany
        ? "Adds the listed links, as in Daptin: links not listed are kept, and `data: []` changes nothing. To replace the whole set (JSON:API's PATCH), send `meta: {replace: true}` with the list: `{\"data\": [...], \"meta\": {\"replace\": true}}`; `data: []` then removes every link."
        : `Sets ${rel.name} to the row given as {type, id}, or clears it with data: null (422 when the relation is required).`,
      requestBody: body,
      responses: done,
    },
  };
  if (rel.toMany) {
    relationships.post = { operationId: ids.take(`add${P}${R}Relationship`), tags, summary: `Add links to ${rel.name}`, requestBody: body, responses: done };
  }
  relationships.delete = { operationId: ids.take(`remove${P}${R}Relationship`), tags, summary: `Remove links from ${rel.name}`, requestBody: body, responses: done };
  return {
    paths: {
      [`/api/${t.name}/{id}/${rel.name}`]: { parameters: [param("Id")], get: related },
      [`/api/${t.name}/{id}/relationships/${rel.name}`]: relationships,
    },
    schemas,
  };
}

/** `POST /action/{t}/{name}`: in-fields as the request, the response array as the answer. */
export function actionPath(t: TableInfo, action: ActionDef, ids: UniqueIds): [string, PathItemObject, string, Record<string, unknown>] {
  const schemaName = `${pascal(t.name)}${pascal(action.Name)}Request`;
  const properties: Record<string, unknown> = {};
  const required: string[] = [];
  for (const f of action.InFields) {
    properties[f.ColumnName] = columnSchema({ ...f, DataType: "", Options: undefined, family: familyOfField(f.ColumnType) } as never);
    if (!f.IsNullable) required.push(f.ColumnName);
  }
  if (!action.InstanceOptional) {
    properties[`${t.name}_id`] = { type: "string", format: "uuid", description: `the ${t.name} to act on` };
    required.push(`${t.name}_id`);
  }
  const attributes = { type: "object", properties, ...(required.length ? { required } : {}) };
  const schema = { type: "object", properties: { attributes }, ...(required.length ? { required: ["attributes"] } : {}) };
  const op: OperationObject = {
    operationId: ids.take(`execute${pascal(t.name)}${pascal(action.Name)}`),
    tags: [t.name],
    summary: action.Label || action.Name,
    requestBody: { required: true, content: { "application/json": { schema: ref(schemaName) } } },
    responses: {
      "200": { description: "what the client should do next", content: { "application/json": { schema: ref("ActionResponses") } } },
      "400": response("ActionFailed"),
      "401": response("ActionFailed"),
      "403": response("ActionFailed"),
      "404": response("ActionFailed"),
      "409": response("ActionFailed"),
      "422": response("ActionFailed"),
    },
  };
  return [`/action/${t.name}/${action.Name}`, { post: op }, schemaName, schema];
}

function familyOfField(columnType: string) {
  return familyOf({ ColumnName: "", ColumnType: columnType, DataType: "" });
}

/** `GET /actions`: the guest actions (signin, signup) keyed `user:signin`, `user:signup`, as Daptin lists them. */
export function guestActionsOperation(): OperationObject {
  return {
    operationId: "ListGuestActions",
    summary: "The signin and signup actions, when the caller may run them",
    security: [],
    responses: {
      "200": {
        description: "action definitions by `user:<name>`",
        content: { "application/json": { schema: { type: "object", additionalProperties: { type: "object", additionalProperties: true } } } },
      },
      "401": { description: "the token is invalid, expired or stale", content: { "application/json": { schema: ref("ActionResponses") } } },
    },
  };
}
