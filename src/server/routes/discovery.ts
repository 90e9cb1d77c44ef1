// Discovery: the OpenAPI document (YAML and JSON), the API reference page, /jsmodel, /meta, /actions, /ping.
// Embedded as files, not as JavaScript strings: 1.5 MB the runtime would otherwise parse and keep at every start.
import swaggerCss from "swagger-ui-dist/swagger-ui.css" with { type: "file" };
import swaggerJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import { ApiSpecCache } from "../../apispec/cache.ts";
import { columnTypeCatalogue, jsModel } from "../../apispec/jsmodel.ts";
import type { Engine } from "../../engine/engine.ts";
import { forbidden, notFound } from "../../engine/errors.ts";
import type { Identity } from "../../engine/identity/identity.ts";

const TEXT = "text/plain; charset=utf-8";
const caches = new WeakMap<Engine, ApiSpecCache>();

function cacheOf(engine: Engine): ApiSpecCache {
  let c = caches.get(engine);
  if (!c) caches.set(engine, (c = new ApiSpecCache(engine)));
  return c;
}

const REFERENCE_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Daptin API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/apispec/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/apispec/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({ url: "/openapi.json" + location.search, dom_id: "#swagger-ui", deepLinking: true });</script>
</body></html>`;

/** `parts`: the path's segments, decoded by the router. */
type Answer = (engine: Engine, who: Identity, url: URL, req: Request, parts: string[]) => Response;

/** A discovery route: the methods it answers (HEAD wherever GET is; OPTIONS where Daptin has it) and its answer. */
export interface DiscoveryRoute {
  methods: string[];
  answer: Answer;
}

const READ = ["GET", "HEAD"];
/** Daptin answers OPTIONS on the document and the models with the same body. */
const READ_OPTIONS = ["GET", "HEAD", "OPTIONS"];

/** Whether the client holds `etag` already (`If-None-Match`). */
function notModified(req: Request, etag: string): boolean {
  const match = req.headers.get("if-none-match");
  return match !== null && (match.trim() === "*" || match.split(",").some((t) => t.trim() === etag));
}

/**
 * The document differs per caller, so shared caches must not keep it (`private`); clients revalidate with the ETag
 * (`no-cache`), and a 304 spares them megabytes.
 */
const SPEC_CACHE = "private, no-cache";

function spec(format: "yaml" | "json"): Answer {
  const type = format === "json" ? "application/json; charset=utf-8" : "application/yaml; charset=utf-8";
  return (engine, who, url, req) => {
    const full = url.searchParams.get("full");
    if (full !== null && full !== "0" && !who.isAdmin) throw forbidden("Forbidden", "?full=1 is for administrators");
    const answer = cacheOf(engine).answer(who, format, url.origin);
    const headers = { "Content-Type": type, "Cache-Control": SPEC_CACHE, ETag: answer.etag };
    if (notModified(req, answer.etag)) return new Response(null, { status: 304, headers });
    return new Response(answer.body(), { headers });
  };
}

const fixed = (body: () => string | Blob, type: string, cache?: string): Answer => () =>
  new Response(body(), { headers: { "Content-Type": type, ...(cache ? { "Cache-Control": cache } : {}) } });

/** `/meta?query=column_types`: the catalogue never changes while the binary runs, so it is built and tagged once. */
let catalogue: { body: string; etag: string } | undefined;
const META_CACHE = "public, max-age=86400, s-maxage=86400, immutable";

const meta: Answer = (_engine, _who, url, req) => {
  if (url.searchParams.get("query") !== "column_types") return new Response("", { headers: { "Content-Type": TEXT, "Cache-Control": META_CACHE } });
  if (!catalogue) {
    const body = JSON.stringify(columnTypeCatalogue());
    catalogue = { body, etag: `W/"${new Bun.CryptoHasher("sha256").update(body).digest("hex")}"` };
  }
  const headers = { "Content-Type": "application/json; charset=utf-8", "Cache-Control": META_CACHE, ETag: catalogue.etag };
  if (notModified(req, catalogue.etag)) return new Response(null, { status: 304, headers });
  return new Response(catalogue.body, { headers });
};

const actions: Answer = (engine, who) => {
  const out: Record<string, unknown> = {};
  for (const { table, action } of engine.actions.visible(who)) {
    if (table === "user_account" && (action.Name === "signup" || action.Name === "signin")) out[`user:${action.Name}`] = action;
  }
  return new Response(JSON.stringify(out), { headers: { "Content-Type": "application/json; charset=utf-8" } });
};

const jsmodel: Answer = (engine, who, _url, _req, parts) => {
  // `/jsmodel/todo.js` is the model of `todo`.
  const name = parts[1]!.split(".")[0]!;
  const table = engine.registry.get(name);
  if (!table || !engine.data.canPeek(who, table)) throw notFound("Unknown table", `there is no table named "${name}"`);
  const list = engine.actions.visible(who).filter((a) => a.table === name).map((a) => a.action);
  return new Response(JSON.stringify(jsModel(table, list)), { headers: { "Content-Type": TEXT } });
};

const ROUTES = new Map<string, DiscoveryRoute>([
  ["/openapi.yaml", { methods: READ_OPTIONS, answer: spec("yaml") }],
  ["/apispec.yaml", { methods: READ_OPTIONS, answer: spec("yaml") }],
  ["/openapi.json", { methods: READ_OPTIONS, answer: spec("json") }],
  ["/apispec.json", { methods: READ_OPTIONS, answer: spec("json") }],
  ["/apispec", { methods: READ, answer: fixed(() => REFERENCE_PAGE, "text/html; charset=utf-8") }],
  ["/docs", { methods: READ, answer: fixed(() => REFERENCE_PAGE, "text/html; charset=utf-8") }],
  ["/apispec/swagger-ui.css", { methods: READ, answer: fixed(() => Bun.file(swaggerCss), "text/css; charset=utf-8", "public, max-age=86400") }],
  ["/apispec/swagger-ui-bundle.js", { methods: READ, answer: fixed(() => Bun.file(swaggerJs), "text/javascript; charset=utf-8", "public, max-age=86400") }],
  ["/meta", { methods: READ, answer: meta }],
  ["/actions", { methods: READ, answer: actions }],
]);
const JSMODEL: DiscoveryRoute = { methods: READ_OPTIONS, answer: jsmodel };

/** The discovery route at `path` (decoded segments `parts`), or undefined when the path is not one. */
export function discoveryRoute(path: string, parts: string[]): DiscoveryRoute | undefined {
  return ROUTES.get(path) ?? (parts.length === 2 && parts[0] === "jsmodel" && parts[1] !== "" ? JSMODEL : undefined);
}
