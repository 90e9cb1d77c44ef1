// Where a request's token comes from: `Authorization: Bearer`, then `?token=`, then the `token` cookie.
import { unauthorized } from "../engine/errors.ts";

export function tokenOf(req: Request, url: URL): string | null {
  const header = req.headers.get("authorization");
  if (header !== null && header.trim() !== "") {
    const [scheme, token, extra] = header.trim().split(/\s+/);
    if (scheme?.toLowerCase() !== "bearer" || !token || extra !== undefined) {
      throw unauthorized("Invalid token", "the Authorization header must be \"Bearer <token>\"");
    }
    return token;
  }
  const query = url.searchParams.get("token");
  if (query) return query;
  const cookies = req.headers.get("cookie");
  if (cookies) {
    for (const part of cookies.split(";")) {
      const [k, ...v] = part.trim().split("=");
      if (k === "token" && v.length > 0) {
        // `client.cookie.set` values end with "; SameSite=Strict": only the first segment is the token.
        const value = decodeURIComponent(v.join("="));
        if (value) return value;
      }
    }
  }
  return null;
}
