// Typed engine errors. The engine says *what* went wrong; adapters (HTTP, CLI) decide how to show it.
// The HTTP status of each kind is mapped in exactly one place: src/server/errors.ts.

export type ErrorKind =
  | "bad_request" // malformed input: bad JSON, bad parameter, unknown column
  | "unauthorized" // a token was given but is not usable
  | "forbidden" // the permission gate said no
  | "not_found" // unknown table, row or route
  | "method_not_allowed"
  | "conflict" // version mismatch, unique violation, id mismatch, dependants
  | "validation" // well-formed input that breaks a rule of the schema
  | "rate_limited" // too many attempts
  | "too_large" // a request body over the limit
  | "schema" // a schema file or a schema change that cannot be applied
  | "unavailable" // the database is busy (a write lock held too long elsewhere): retry later
  | "internal";

export interface ErrorSource {
  pointer?: string;
  parameter?: string;
}

export class DaptinError extends Error {
  readonly kind: ErrorKind;
  readonly title: string;
  readonly detail?: string;
  readonly source?: ErrorSource;
  readonly code?: string;
  /** For `rate_limited`: seconds until a retry can succeed (HTTP `Retry-After`). */
  readonly retryAfter?: number;

  constructor(kind: ErrorKind, title: string, opts: { detail?: string; source?: ErrorSource; code?: string; retryAfter?: number } = {}) {
    super(opts.detail ? `${title}: ${opts.detail}` : title);
    this.kind = kind;
    this.title = title;
    this.detail = opts.detail;
    this.source = opts.source;
    this.code = opts.code;
    this.retryAfter = opts.retryAfter;
  }
}

export const badRequest = (title: string, detail?: string, source?: ErrorSource) =>
  new DaptinError("bad_request", title, { detail, source });
export const notFound = (title: string, detail?: string) => new DaptinError("not_found", title, { detail });
/**
 * A 403. Its detail always carries the word "forbidden" (Daptin's `http error (403) forbidden`, which clients match
 * on), followed by the reason: `forbidden: you may not update this todo`.
 */
export const forbidden = (title: string, detail?: string) =>
  new DaptinError("forbidden", title, { detail: detail === undefined ? "forbidden" : /\bforbidden\b/i.test(detail) ? detail : `forbidden: ${detail}` });
export const unauthorized = (title: string, detail?: string) => new DaptinError("unauthorized", title, { detail });
export const conflict = (title: string, detail?: string, source?: ErrorSource) =>
  new DaptinError("conflict", title, { detail, source });
export const validation = (title: string, detail?: string, source?: ErrorSource) =>
  new DaptinError("validation", title, { detail, source });
export const schemaError = (title: string, detail?: string) => new DaptinError("schema", title, { detail });

/** Why a file could not be read, in words for a message that names it: `no such file`, `is a directory`, ... */
export function fileProblem(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "is a directory";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "ENOTDIR") return "a part of the path is not a directory";
  return e instanceof Error ? e.message : String(e);
}
