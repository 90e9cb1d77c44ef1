// /api/{table}[/{id}]: JSON:API list, read, create, update, delete.
import type { Engine } from "../../engine/engine.ts";
import type { Identity } from "../../engine/identity/identity.ts";
import type { ListParams } from "../../engine/data/list.ts";
import { jsonApi, methodNotAllowed } from "../errors.ts";
import { pageLinks, resourceObject } from "../jsonapi.ts";
import { readJson, resourceInput } from "../request.ts";

export interface RouteContext {
  engine: Engine;
  who: Identity;
  req: Request;
  url: URL;
}

const RESERVED = new Set(["page[number]", "page[size]", "sort", "query", "filter", "filter[]", "fields", "included_relations", "include", "token", "group"]);

function listParams(ctx: RouteContext, table: string): ListParams {
  const q = ctx.url.searchParams;
  const get = (k: string) => q.get(k) ?? undefined;
  const t = ctx.engine.data.table(table);
  const relationFilters: Record<string, string> = {};
  for (const [k, v] of q) {
    if (!RESERVED.has(k) && t.relations.has(k) && !(k in relationFilters)) relationFilters[k] = v;
  }
  return {
    pageNumber: get("page[number]"),
    pageSize: get("page[size]"),
    sort: get("sort"),
    query: get("query"),
    filter: get("filter") ?? get("filter[]"),
    fields: get(`fields[${table}]`) ?? get("fields"),
    relationFilters,
  };
}

export async function collection(ctx: RouteContext, table: string): Promise<Response> {
  switch (ctx.req.method) {
    case "GET": {
      const result = ctx.engine.data.list(ctx.who, table, listParams(ctx, table));
      return jsonApi({ links: pageLinks(ctx.url, result), data: result.resources.map(resourceObject) });
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
      const fieldsParam = ctx.url.searchParams.get(`fields[${table}]`);
      const fields = fieldsParam ? fieldsParam.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
      return jsonApi({ data: resourceObject(ctx.engine.data.get(ctx.who, table, id, fields)) });
    }
    case "PATCH": {
      ctx.engine.data.table(table);
      const input = resourceInput(await readJson(ctx.req), table);
      return jsonApi({ data: resourceObject(await ctx.engine.data.update(ctx.who, table, id, input)) });
    }
    case "DELETE":
      ctx.engine.data.delete(ctx.who, table, id);
      return jsonApi({ meta: null });
    case "OPTIONS":
      ctx.engine.data.table(table);
      return new Response(null, { status: 204, headers: { Allow: "OPTIONS,GET,PATCH,DELETE" } });
    default:
      ctx.engine.data.table(table);
      return methodNotAllowed(["GET", "PATCH", "DELETE", "OPTIONS"]);
  }
}
