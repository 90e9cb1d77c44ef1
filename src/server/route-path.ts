// The path as the router reads it. One normalisation for routing and for what is keyed on a route (`limit.rate`):
// were they to differ, `/api/product/` or `/api/%70roduct` would reach the same route under another key.
import { badRequest } from "../engine/errors.ts";

export interface RoutePath {
  /** The path without a trailing "/" ("/" itself stays), still percent-encoded: discovery routes match it as written. */
  path: string;
  /** Its segments (after the leading "/"), percent-decoded once; bad encoding is the client's mistake (400). */
  parts: string[];
}

export function routePath(pathname: string): RoutePath {
  const path = pathname.length > 1 && pathname.endsWith("/") ? pathname.slice(0, -1) : pathname;
  const parts = path.split("/");
  parts.shift();
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.includes("%")) {
      try {
        parts[i] = decodeURIComponent(p);
      } catch {
        throw badRequest("Invalid path", `the path segment "${p}" is not valid percent-encoded UTF-8`);
      }
    }
  }
  return { path, parts };
}

/** The name a route is known by: its decoded segments joined by "/" (`/api/product/`, `/api/%70roduct`: `/api/product`). */
export function routeKey(pathname: string): string {
  return `/${routePath(pathname).parts.join("/")}`;
}
