// The one place engine errors become HTTP: status by kind, JSON:API `errors` document.
import { DaptinError, type ErrorKind } from "../engine/errors.ts";

export const STATUS: Record<ErrorKind, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  validation: 422,
  rate_limited: 429,
  too_large: 413,
  schema: 422,
  unavailable: 503,
  internal: 500,
};

export const JSONAPI = "application/vnd.api+json";

export function jsonApi(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": JSONAPI, ...headers } });
}

export function errorResponse(error: unknown, log?: (msg: string) => void): Response {
  if (error instanceof DaptinError) {
    const status = STATUS[error.kind];
    const item: Record<string, unknown> = { status: String(status), title: error.title };
    if (error.code) item.code = error.code;
    if (error.detail) item.detail = error.detail;
    if (error.source) item.source = error.source;
    return jsonApi({ errors: [item] }, status, errorHeaders(error));
  }
  // Anything else is our bug: log it, answer without internals.
  log?.(`internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return jsonApi({ errors: [{ status: "500", title: "Internal server error" }] }, 500);
}

/** Headers an error answer carries: how to authenticate (401), when to retry (429). */
export function errorHeaders(error: DaptinError): Record<string, string> {
  const headers: Record<string, string> = {};
  if (error.kind === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="daptin"';
  if (error.retryAfter !== undefined) headers["Retry-After"] = String(error.retryAfter);
  return headers;
}

export function methodNotAllowed(allow: string[]): Response {
  return jsonApi(
    { errors: [{ status: "405", title: "Method not allowed", detail: `allowed: ${allow.join(", ")}` }] },
    405,
    { Allow: allow.join(",") },
  );
}

export function routeNotFound(path: string): Response {
  return jsonApi({ errors: [{ status: "404", title: "Not found", detail: `no route for ${path}` }] }, 404);
}
