// Daptin's per-path request limit (`_config` backend `limit.rate`, spec 20 section 8.4): requests per client address
// and path within the current second, over the limit answered 429 with `Retry-After: 1`. Only the paths the
// setting lists are limited (Daptin limits every path to 500/s by default; here that is left to a proxy, and the
// authentication actions have their own throttle in the engine).
import { requestUrl } from "./request.ts";
import { routeKey } from "./route-path.ts";

export const RATE_CONFIG_KEY = "limit.rate";

const MAX_RATE = 1_000_000;
/** Distinct (address, path) pairs counted within one second; beyond it new pairs pass uncounted until the next. */
const MAX_KEYS = 100_000;

/** `{"version": "1", "limits": {"/path": n}}`; anything invalid means no limits, as Daptin falls back to defaults. */
export function rateLimits(raw: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  if (!raw) return out;
  let cfg: unknown;
  try {
    cfg = JSON.parse(raw);
  } catch {
    return out;
  }
  if (cfg === null || typeof cfg !== "object") return out;
  const { version, limits } = cfg as { version?: unknown; limits?: unknown };
  if (version !== "1" && version !== "default") return out;
  if (limits === null || typeof limits !== "object" || Array.isArray(limits)) return out;
  for (const [path, n] of Object.entries(limits)) {
    if (!path.startsWith("/") || path !== path.trim() || /[?#]/.test(path)) return new Map();
    if (typeof n !== "number" || !Number.isInteger(n) || n < 1 || n > MAX_RATE) return new Map();
    // Listed paths are keyed as requests are: by the route they name (`/api/product/` is `/api/product`).
    let key: string;
    try {
      key = routeKey(path);
    } catch {
      return new Map();
    }
    out.set(key, n);
  }
  return out;
}

export interface Quota {
  /** The 429 answer when over the limit; undefined when the request may go on. */
  refused?: Response;
  /** Adds `X-RateLimit-*` to the answer. */
  stamp(headers: Headers): void;
}

export class RateLimiter {
  private raw: string | undefined;
  private limits = new Map<string, number>();
  private second = 0;
  private readonly counts = new Map<string, number>();

  /** The quota of one request, or undefined when its path is not limited (the common case costs one map lookup). */
  take(setting: string | undefined, req: Request, client: () => string | undefined): Quota | undefined {
    if (setting !== this.raw) {
      this.raw = setting;
      this.limits = rateLimits(setting);
    }
    if (this.limits.size === 0) return undefined;
    // Keyed on the path as the router reads it: a trailing "/" or percent-encoding reaches the same route.
    const path = routeKey(requestUrl(req).pathname);
    const limit = this.limits.get(path);
    if (limit === undefined) return undefined;
    const second = Math.floor(Date.now() / 1000);
    if (second !== this.second) {
      // Only the current second matters: everything older goes at once.
      this.second = second;
      this.counts.clear();
    }
    const key = `${client() ?? ""}\u0000${path}`;
    let count = this.counts.get(key);
    if (count === undefined && this.counts.size >= MAX_KEYS) count = 0;
    else this.counts.set(key, (count = (count ?? 0) + 1));
    const stamp = (headers: Headers) => {
      headers.set("X-RateLimit-Limit", String(limit));
      headers.set("X-RateLimit-Remaining", String(Math.max(0, limit - count!)));
      headers.set("X-RateLimit-Reset", String(second + 1));
    };
    if (count <= limit) return { stamp };
    const refused = new Response(JSON.stringify({ errors: [{ status: "429", title: "Rate limit exceeded", detail: "Too many requests. Please retry after the current one-second window." }] }), {
      status: 429,
      headers: { "Content-Type": "application/json; charset=utf-8", "Retry-After": "1" },
    });
    return { refused, stamp };
  }
}
