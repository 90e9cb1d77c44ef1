// /api/{table}[/{id}]: JSON:API list, read, create, update, delete.
import type { Engine } from "../../engine/engine.ts";
import type { Identity } from "../../engine/identity/identity.ts";
import { sparseFields } from "../../engine/data/list.ts";
import type { TableInfo } from "../../engine/schema/registry.ts";
import { badRequest, notFound } from "../../engine/errors.ts";
import type { Resource } from "../../engine/data/resource.ts";
import { linkItems } from "../../engine/data/crud.ts";
import { jsonApi, methodNotAllowed } from "../errors.ts";
import { pageMembers, resourceObject } from "../jsonapi.ts";
import { includeParameter, listParams } from "../list-params.ts";
import { readJson, resourceInput } from "../request.ts";

export interface RouteContext {
  engine: Engine;
  who: Identity;
  req: Request;
  url: URL;
}

/** `included_relations=a,b` (Daptin) or `include=a,b` (JSON:API): related resources, once each. */
function withIncluded(ctx: RouteContext, table: string, resources: Resource[]): Record<string, unknown> {
  const q = ctx.url.searchParams;
  const text = includeParameter(q);
  const tokens = text.split(",").map((t) => t.trim()).filter(Boolean);
  if (tokens.length === 0) return {};
  const data = ctx.engine.data;
  const info = data.table(table);
  // `fields[type]` narrows the included resources of that type too (as in Daptin).
  const fieldsOf = (target: TableInfo) => {
    const text = q.get(`fields[${target.name}]`);
    return text === null ? undefined : sparseFields(target, text, `fields[${target.name}]`);
  };
  const included = data.relations.include(ctx.who, info, resources, data.relations.resolveIncludes(info, tokens), fieldsOf);
  return included.length ? { included: included.map(resourceObject) } : {};
}

export async function collection(ctx: RouteContext, table: string): Promise<Response> {
  switch (ctx.req.method) {
    case "GET": {
      const result = ctx.engine.data.list(ctx.who, table, listParams(ctx.url.searchParams, ctx.engine.data.table(table)));
      const included = withIncluded(ctx, table, result.resources);
      const { links, meta } = pageMembers(ctx.url, result);
      return jsonApi({ links, data: result.resources.map(resourceObject), ...included, meta });
    }
    case "POST": {
      ctx.engine.data.table(table);
      const input = resourceInput(await readJson(ctx.req), table);
      const created = await ctx.engine.data.create(ctx.who, table, input);
      return jsonApi({ data: resourceObject(created) }, 201, { Location: `/api/${table}/${created.id}` });
    }
    case "OPTIONS":
      ctx.engine.data.table(table);
      return new Response(null, { status: 204, headers: { Allow: "OPTIONS,GET,POST" } });
    default:
      ctx.engine.data.table(table);
      return methodNotAllowed(["GET", "POST", "OPTIONS"]);
  }
}

export async function item(ctx: RouteContext, table: string, id: string): Promise<Response> {
  switch (ctx.req.method) {
    case "GET": {
      const fieldsParam = ctx.url.searchParams.get(`fields[${table}]`) ?? ctx.url.searchParams.get("fields");
      const fields = fieldsParam ? fieldsParam.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
      const resource = ctx.engine.data.get(ctx.who, table, id, fields);
      const included = withIncluded(ctx, table, [resource]);
      return jsonApi({ data: resourceObject(resource), ...included });
    }
    case "PATCH": {
      ctx.engine.data.table(table);
      const input = resourceInput(await readJson(ctx.req), table);
      return jsonApi({ data: resourceObject(await ctx.engine.data.update(ctx.who, table, id, input)) });
    }
    case "DELETE":
      ctx.engine.data.delete(ctx.who, table, id);
      // Daptin answers {"meta":null}; JSON:API requires meta to be an object.
      return jsonApi({ meta: {} });
    case "OPTIONS":
      ctx.engine.data.table(table);
      return new Response(null, { status: 204, headers: { Allow: "OPTIONS,GET,PATCH,DELETE" } });
    default:
      ctx.engine.data.table(table);
      return methodNotAllowed(["GET", "PATCH", "DELETE", "OPTIONS"]);
  }
}

/** `GET /api/{t}/{id}/{rel}`: the related rows (a page), or the related row (to-one). */
export async function related(ctx: RouteContext, table: string, id: string, rel: string): Promise<Response> {
  const data = ctx.engine.data;
  const info = data.table(table);
  if (!info.relations.has(rel)) throw notFound("Unknown relation", `table ${table} has no relation "${rel}"`);
  if (ctx.req.method !== "GET") return methodNotAllowed(["GET"]);
  const target = info.relations.get(rel)!.target;
  const result = data.relations.related(ctx.who, table, id, rel, listParams(ctx.url.searchParams, data.table(target)));
  if ("one" in result) {
    const included = result.one ? withIncluded(ctx, target, [result.one]) : {};
    return jsonApi({ data: result.one ? resourceObject(result.one) : null, ...included });
  }
  const included = withIncluded(ctx, target, result.many.resources);
  const { links, meta } = pageMembers(ctx.url, result.many);
  return jsonApi({ links, data: result.many.resources.map(resourceObject), ...included, meta });
}

/**
 * `/api/{t}/{id}/relationships/{rel}`: read (GET), add (POST), remove (DELETE) links; PATCH sets a to-one link and,
 * as in Daptin, adds to a to-many set. `{"data": [...], "meta": {"replace": true}}` replaces the whole set (the
 * JSON:API meaning of PATCH, asked for in a member JSON:API leaves to the implementation).
 */
export async function relationship(ctx: RouteContext, table: string, id: string, rel: string): Promise<Response> {
  const data = ctx.engine.data;
  const info = data.table(table);
  if (!info.relations.has(rel)) throw notFound("Unknown relation", `table ${table} has no relation "${rel}"`);
  const self = `/api/${table}/${id}/relationships/${rel}`;
  const related = `/api/${table}/${id}/${rel}`;
  const method = ctx.req.method;
  if (method === "GET") return jsonApi({ links: { self, related }, data: data.relations.linkage(ctx.who, table, id, rel) });
  const modes: Record<string, "add" | "set" | "remove"> = { POST: "add", PATCH: "set", DELETE: "remove" };
  const verb = modes[method];
  if (!verb) return methodNotAllowed(["GET", "POST", "PATCH", "DELETE"]);
  const body = (await readJson(ctx.req)) as { data?: unknown; meta?: unknown } | null;
  if (body === null || typeof body !== "object" || Array.isArray(body) || !("data" in body)) {
    throw badRequest("Invalid document", "the body must be {\"data\": ...} with a resource identifier, a list of them, or null", { pointer: "/data" });
  }
  const replace = (body.meta as { replace?: unknown } | undefined)?.replace;
  if (replace !== undefined && typeof replace !== "boolean") throw badRequest("Invalid document", "meta.replace must be true or false", { pointer: "/meta/replace" });
  if (replace && verb !== "set") throw badRequest("Invalid document", "meta.replace goes with PATCH", { pointer: "/meta/replace" });
  const toMany = info.relations.get(rel)!.toMany;
  const mode = verb === "set" ? (toMany && !replace ? "add" : "replace") : verb;
  const d = body.data;
  let items;
  if (d === null) items = null;
  else if (Array.isArray(d)) items = linkItems(d, "/data");
  else if (typeof d === "object") items = linkItems([d], "/data")[0]!;
  else throw badRequest("Invalid document", "data must be a resource identifier {type, id}, a list of them, or null", { pointer: "/data" });
  await data.relations.write(ctx.who, table, id, rel, mode, items);
  return new Response(null, { status: 204 });
}
