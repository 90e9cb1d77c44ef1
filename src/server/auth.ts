// Where a request's token comes from: `Authorization: Bearer`, then `?token=`, then the `token` cookie.
import { unauthorized } from "../engine/errors.ts";

/**
 * What clients send as a bearer token when they have none: Daptin's own npm client (`daptin-client`) builds the
 * header as `"Bearer " + getToken()` before anyone signed in. These mean "no token", not a bad one.
 */
const NO_TOKEN = new Set(["", "null", "undefined"]);

export function tokenOf(req: Request, url: URL): string | null {
  const header = req.headers.get("authorization");
  if (header !== null && header.trim() !== "") {
    const [scheme, token = "", extra] = header.trim().split(/\s+/);
    if (scheme?.toLowerCase() !== "bearer" || extra !== undefined) {
      throw unauthorized("Invalid token", "the Authorization header must be \"Bearer <token>\"");
    }
    if (!NO_TOKEN.has(token)) return token;
  }
  const query = url.searchParams.get("token");
  if (query && !NO_TOKEN.has(query)) return query;
  const cookies = req.headers.get("cookie");
  if (cookies) {
    for (const part of cookies.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === "token" && v.length > 0) {
        // `client.cookie.set` values end with "; SameSite=Strict": only the first segment is the token. A client
        // that URL-encodes the whole value sends that suffix as "%3B%20SameSite%3DStrict": cut after decoding too.
        const value = decodeCookie(v.join("=")).split(";")[0]!.trim();
        if (!NO_TOKEN.has(value)) return value;
      }
    }
  }
  return null;
}

/** A cookie value with bad percent-encoding is taken as written (it then fails as a token, a 401, not a 500). */
function decodeCookie(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
