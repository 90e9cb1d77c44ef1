// The HTTP server: Bun.serve, one router, identity resolved once per request, errors mapped in one place.
import type { Server } from "bun";
import type { Engine } from "../engine/engine.ts";
import { TRUSTED_PROXIES_KEY } from "../engine/config-store.ts";
import { DaptinError } from "../engine/errors.ts";
import { GUEST, type Identity } from "../engine/identity/identity.ts";
import { tokenOf } from "./auth.ts";
import { clientAddress } from "./client-address.ts";
import { type Quota, RATE_CONFIG_KEY, RateLimiter } from "./rate-limit.ts";
import { actionError, runAction } from "./routes/actions.ts";
import { collection, item, related, relationship, type RouteContext } from "./routes/api.ts";
import { discoveryRoute } from "./routes/discovery.ts";
import { errorResponse, JSONAPI, methodNotAllowed, routeNotFound } from "./errors.ts";
import { MAX_BODY, requestUrl } from "./request.ts";
import { routePath } from "./route-path.ts";

/** The caller's address, or a function that works it out (Bun's requestIP costs about 0.3 us a request). */
export type Client = string | undefined | (() => string | undefined);

const addressOf = (client: Client): string | undefined => (typeof client === "function" ? client() : client);

export interface ServerOptions {
  port: number;
  hostname?: string;
  log?: (msg: string) => void;
}

export interface RunningServer {
  port: number;
  url: string;
  /** Stops accepting, lets in-flight requests finish. */
  stop(): Promise<void>;
}

const PING_METHODS = ["GET", "HEAD"];
/** Daptin runs an action on any of these; OPTIONS answers the list. */
const ACTION_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

async function route(engine: Engine, req: Request, client: Client): Promise<Response> {
  const url = requestUrl(req);
  const { path, parts } = routePath(url.pathname);
  if (path === "/ping") {
    if (req.method !== "GET" && req.method !== "HEAD") return methodNotAllowed(PING_METHODS);
    return new Response("pong", { headers: { "Content-Type": "text/plain; charset=utf-8" } });
  }
  // Another process (the CLI) may have changed the database since the last request.
  engine.syncWithDatabase();
  const relationshipPath = parts.length === 5 && parts[3] === "relationships";
  if (parts[0] === "api" && ((parts.length >= 2 && parts.length <= 4) || relationshipPath)) {
    const who = req.method === "OPTIONS" ? GUEST : await engine.identify(tokenOf(req, url));
    const ctx: RouteContext = { engine, who, req, url };
    const [, t, id, rel] = parts as [string, string, string?, string?];
    if (relationshipPath) return relationship(ctx, t, id!, parts[4]!);
    if (rel !== undefined) return related(ctx, t, id!, rel);
    return id === undefined ? collection(ctx, t) : item(ctx, t, id);
  }
  if (parts[0] === "action" && parts.length === 3) {
    if (req.method === "OPTIONS") return new Response(null, { status: 204, headers: { Allow: ["OPTIONS", ...ACTION_METHODS].join(",") } });
    if (!ACTION_METHODS.includes(req.method)) return methodNotAllowed(["OPTIONS", ...ACTION_METHODS]);
    let who: Identity;
    try {
      who = await engine.identifyForAction(tokenOf(req, url), parts[1]!, parts[2]!);
    } catch (e) {
      if (e instanceof DaptinError) return actionError(e);
      throw e;
    }
    return runAction(engine, who, req, url, parts[1]!, parts[2]!, addressOf(client));
  }
  const found = discoveryRoute(path, parts);
  if (!found) return routeNotFound(url.pathname);
  if (!found.methods.includes(req.method)) return methodNotAllowed(found.methods);
  return found.answer(engine, await engine.identify(tokenOf(req, url)), url, req, parts);
}

/**
 * Whether `Accept` names application/json and not the JSON:API media type. JSON:API's type stays the answer
 * otherwise (no Accept, `*\/*`, or both named).
 */
export function wantsPlainJson(accept: string | null): boolean {
  if (accept === null || !accept.includes("application/json")) return false;
  let json = false;
  for (const range of accept.split(",")) {
    const type = range.split(";", 1)[0]!.trim().toLowerCase();
    if (type === JSONAPI) return false;
    if (type === "application/json") json = true;
  }
  return json;
}

/**
 * The whole request path (limits, routing, errors, debug header) as one function: Bun.serve's handler, and
 * benchmarks'. `client` is the caller's address (see client-address.ts), or how to work it out: only the routes that
 * count per address need it (actions, paths with a `limit.rate`), so the others do not pay for it.
 */
export function requestHandler(engine: Engine, log?: (msg: string) => void): (req: Request, client?: Client) => Promise<Response> {
  const countStatements = process.env.DAPTIN_DEBUG_SQL_COUNT === "1";
  const limiter = new RateLimiter();
  return async (req, client) => {
    const before = engine.db.statementCount;
    let res: Response;
    let quota: Quota | undefined;
    try {
      quota = limiter.take(engine.setting(RATE_CONFIG_KEY), req, () => addressOf(client));
      res = quota?.refused ?? (await route(engine, req, client));
    } catch (e) {
      res = errorResponse(e, log);
    }
    quota?.stamp(res.headers);
    // Clients that parse only application/json (code generators) get the same body under that type.
    // (Accept first: most requests do not ask, and reading a Response's headers materialises them.)
    if (wantsPlainJson(req.headers.get("accept")) && res.headers.get("content-type") === JSONAPI) res.headers.set("Content-Type", "application/json");
    // Tests prove query counts stay flat as data grows; only when asked for (sequential requests).
    if (countStatements) res.headers.set("X-Daptin-Sql-Statements", String(engine.db.statementCount - before));
    return res;
  };
}

export function startServer(engine: Engine, opts: ServerOptions): RunningServer {
  const handle = requestHandler(engine, opts.log);
  const server: Server<undefined> = Bun.serve({
    port: opts.port,
    hostname: opts.hostname ?? "0.0.0.0",
    // A second server on the same port must fail ("address in use"), not silently split the traffic.
    reusePort: false,
    development: false,
    fetch: (req, server) => handle(req, () => clientAddress(req, server.requestIP(req)?.address, engine.setting(TRUSTED_PROXIES_KEY))),
    // Routes read bodies through request.ts, which refuses past MAX_BODY with a JSON error; Bun's cap is the backstop.
    maxRequestBodySize: 2 * MAX_BODY,
    error(e) {
      return errorResponse(e, opts.log);
    },
  });
  return {
    port: server.port!,
    url: `http://${opts.hostname && opts.hostname !== "0.0.0.0" ? opts.hostname : "localhost"}:${server.port}`,
    async stop() {
      await server.stop(false);
    },
  };
}
