// The OpenAPI 3 document, built from the schema registry with openapi3-ts: what `GET /openapi.yaml` serves and
// `daptin apispec` prints. A caller sees the tables and actions they may use; administrators see everything.
import { OpenApiBuilder, type OpenAPIObject, type ParameterObject } from "openapi3-ts/oas30";
import type { ActionDef } from "../engine/actions/types.ts";
import type { Engine } from "../engine/engine.ts";
import type { Identity } from "../engine/identity/identity.ts";
import type { TableInfo } from "../engine/schema/registry.ts";
import pkg from "../../package.json" with { type: "json" };
import { UniqueIds } from "./names.ts";
import { actionPath, FIXED_PARAMETERS, guestActionsOperation, FIXED_REQUEST_BODIES, FIXED_RESPONSES, listParameters, relationPaths, tablePaths } from "./paths.ts";
import { FIXED_SCHEMAS, tableSchemas } from "./schemas.ts";

export interface BuildOptions {
  /** The `servers` entry; left out when not given (the CLI prints a server-less document). */
  serverUrl?: string;
}

/**
 * What a caller may see: the tables it may peek at and the actions it may run. A document depends on nothing else,
 * so callers with the same view (every guest, every member of the same groups) share one document.
 */
export interface ApiView {
  /** By name. */
  tables: TableInfo[];
  actions: { table: string; action: ActionDef }[];
  /** Equal keys, equal documents. */
  key: string;
}

export function apiView(engine: Engine, who: Identity): ApiView {
  const tables = [...engine.registry.tables.values()]
    .filter((t) => engine.data.canPeek(who, t))
    .sort((a, c) => a.name.localeCompare(c.name));
  const actions = engine.actions.visible(who);
  return { tables, actions, key: JSON.stringify([tables.map((t) => t.name), actions.map((a) => [a.table, a.action.Name])]) };
}

export function buildOpenApi(engine: Engine, view: ApiView, opts: BuildOptions = {}): OpenAPIObject {
  const b = OpenApiBuilder.create({ openapi: "3.0.3", info: { title: "", version: "" }, paths: {} });
  // Title and version as in Daptin's document (generated clients and their file names are keyed on them).
  b.addTitle("Daptin API endpoint")
    .addVersion("1.0.0")
    .addDescription(
      `JSON:API over the tables of this instance, plus actions (daptin ${pkg.version}). Sign in with \`POST /action/user_account/signin\`, then send the token as \`Authorization: Bearer <token>\` (or the \`token\` cookie, or \`?token=\`). Answers are \`application/vnd.api+json\`, or the same body as \`application/json\` when \`Accept\` names only that.`,
    )
    .addLicense({ name: "MIT", url: "https://opensource.org/licenses/MIT" });
  if (opts.serverUrl) b.addServer({ url: opts.serverUrl });
  b.addSecurityScheme("bearerAuth", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  b.addSecurityScheme("cookieAuth", { type: "apiKey", in: "cookie", name: "token" });
  for (const [k, v] of Object.entries(FIXED_PARAMETERS)) b.addParameter(k, v);
  for (const [k, v] of Object.entries(FIXED_RESPONSES)) b.addResponse(k, v);
  for (const [k, v] of Object.entries(FIXED_REQUEST_BODIES)) b.addRequestBody(k, v);
  for (const [k, v] of Object.entries(FIXED_SCHEMAS)) b.addSchema(k, v);

  const ids = new UniqueIds();
  const visible = view.tables;
  const shown = new Set(visible.map((t) => t.name));
  const listParameterComponents: Record<string, ParameterObject> = {};
  const filters = new Map(visible.map((t) => [t.name, listParameters(t, shown, listParameterComponents)]));
  for (const k of Object.keys(listParameterComponents).sort()) b.addParameter(k, listParameterComponents[k]!);
  for (const t of visible) {
    b.addTag({ name: t.name, description: t.def.TableDescription || `${t.isJoin ? "Join table" : "Table"} ${t.name}` });
    for (const [name, schema] of Object.entries(tableSchemas(t))) b.addSchema(name, schema);
    for (const [path, item] of Object.entries(tablePaths(t, ids, filters.get(t.name)!))) b.addPath(path, item);
    for (const rel of [...t.relations.values()].sort((x, y) => x.name.localeCompare(y.name))) {
      // A relation to a table the caller cannot see is not documented either.
      if (!shown.has(rel.target)) continue;
      const join = rel.storage.kind === "join" ? engine.registry.get(rel.storage.table) : undefined;
      const { paths, schemas } = relationPaths(t, rel, ids, { target: engine.registry.get(rel.target)!, filters: filters.get(rel.target)!, join });
      for (const [name, schema] of Object.entries(schemas)) b.addSchema(name, schema);
      for (const [path, item] of Object.entries(paths)) b.addPath(path, item);
    }
  }
  for (const { table, action } of view.actions) {
    const t = engine.registry.get(table);
    if (!t) continue;
    if (!shown.has(table)) b.addTag({ name: table, description: `Actions on ${table}` });
    shown.add(table);
    const [path, item, schemaName, schema] = actionPath(t, action, ids);
    b.addSchema(schemaName, schema);
    b.addPath(path, item);
  }
  b.addPath("/actions", { get: guestActionsOperation() });
  const doc = b.getSpec();
  doc.security = [{ bearerAuth: [] }, { cookieAuth: [] }, {}];
  return doc;
}
