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

/** Answers a discovery route, or null when the path is not one. */
export function discovery(engine: Engine, who: Identity, url: URL, path: string): Response | null {
  const full = url.searchParams.get("full");
  const spec = (format: "yaml" | "json") => {
    if (full !== null && full !== "0" && !who.isAdmin) throw forbidden("Forbidden", "?full=1 is for administrators");
    const server = url.origin;
    const cache = cacheOf(engine);
    return format === "json"
      ? new Response(cache.json(who, server), { headers: { "Content-Type": "application/json; charset=utf-8" } })
      : new Response(cache.yaml(who, server), { headers: { "Content-Type": "application/yaml; charset=utf-8" } });
  };
  switch (path) {
    case "/openapi.yaml":
    case "/apispec.yaml":
      return spec("yaml");
    case "/openapi.json":
    case "/apispec.json":
      return spec("json");
    case "/apispec":
    case "/docs":
      return new Response(REFERENCE_PAGE, { headers: { "Content-Type": "text/html; charset=utf-8" } });
    case "/apispec/swagger-ui.css":
      return new Response(Bun.file(swaggerCss), { headers: { "Content-Type": "text/css; charset=utf-8", "Cache-Control": "public, max-age=86400" } });
    case "/apispec/swagger-ui-bundle.js":
      return new Response(Bun.file(swaggerJs), { headers: { "Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=86400" } });
    case "/meta": {
      if (url.searchParams.get("query") !== "column_types") return new Response("", { headers: { "Content-Type": TEXT } });
      return new Response(JSON.stringify(columnTypeCatalogue()), {
        headers: { "Content-Type": TEXT, "Cache-Control": "public, max-age=86400, s-maxage=86400, immutable" },
      });
    }
    case "/actions": {
      const out: Record<string, unknown> = {};
      for (const { table, action } of engine.actions.visible(who)) {
        if (table === "user_account" && (action.Name === "signup" || action.Name === "signin")) out[`user:${action.Name}`] = action;
      }
      return new Response(JSON.stringify(out), { headers: { "Content-Type": "application/json; charset=utf-8" } });
    }
  }
  if (path.startsWith("/jsmodel/")) {
    const name = decodeURIComponent(path.slice("/jsmodel/".length)).split(".")[0]!;
    const table = engine.registry.get(name);
    if (!table || !engine.data.canPeek(who, table)) throw notFound("Unknown table", `there is no table named "${name}"`);
    const actions = engine.actions.visible(who).filter((a) => a.table === name).map((a) => a.action);
    return new Response(JSON.stringify(jsModel(table, actions)), { headers: { "Content-Type": TEXT } });
  }
  return null;
}
