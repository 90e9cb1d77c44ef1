// Table Validations and Conformations (spec 10 section 2.3): the go-playground tags people actually use.
import { charCount, type JsonValue } from "../schema/column-types/index.ts";
import type { RuleDef } from "../schema/types.ts";

// Domain labels cannot contain dots, so the pattern has one way to match: linear time on any input (the looser
// `[^\s@]+\.[^\s@]+` backtracked quadratically, 8 s on a 100,000-character address).
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+$/;

/** Whether `s` looks like an email address (`ann@example.com`). */
export const isEmail = (s: string): boolean => EMAIL.test(s);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function sizeOf(v: JsonValue): number {
  if (typeof v === "number") return v;
  if (typeof v === "string") return charCount(v);
  if (Array.isArray(v)) return v.length;
  return 0;
}

/**
 * A value as rules read it: text as is, numbers and booleans as their text, lists and objects as their JSON text.
 * Never `String()` on a client's object: a `toString` key makes it throw, and deep nesting overflows the stack.
 */
function textOf(v: JsonValue | undefined): string {
  if (v === null || v === undefined) return "";
  if (typeof v !== "object") return String(v);
  try {
    return JSON.stringify(v);
  } catch {
    return "";
  }
}

/** `eqfield=InnerStructField[passwordConfirm]` and `eqfield=passwordConfirm` both name the field passwordConfirm. */
const fieldName = (arg: string) => /\[(.+)\]/.exec(arg)?.[1] ?? arg;

/** Returns a message for the first rule the value breaks, or null. */
export function checkTags(column: string, tags: string, value: JsonValue, all: Record<string, JsonValue> = {}): string | null {
  const s = textOf(value);
  const num = typeof value === "number" ? value : Number(s);
  for (const tag of tags.split(",").map((t) => t.trim()).filter(Boolean)) {
    const [name, arg = ""] = tag.split("=");
    switch (name) {
      case "required":
        if (value === null || s.trim() === "") return `${column} is required`;
        break;
      case "omitempty":
        if (value === null || s === "") return null;
        break;
      case "email":
        if (!isEmail(s)) return `${column} must be a valid email address`;
        break;
      case "url":
        try {
          new URL(s);
        } catch {
          return `${column} must be a URL`;
        }
        break;
      case "uuid":
        if (!UUID.test(s)) return `${column} must be a UUID`;
        break;
      case "min":
        if (sizeOf(value) < Number(arg)) return typeof value === "number" ? `${column} must be at least ${arg}` : `${column} must be at least ${arg} characters`;
        break;
      case "max":
        if (sizeOf(value) > Number(arg)) return typeof value === "number" ? `${column} must be at most ${arg}` : `${column} must be at most ${arg} characters`;
        break;
      case "len":
        if (sizeOf(value) !== Number(arg)) return `${column} must be exactly ${arg} long`;
        break;
      case "gt":
        if (!(typeof value === "string" && !/^-?\d/.test(value) ? sizeOf(value) > Number(arg) : num > Number(arg))) return `${column} must be greater than ${arg}`;
        break;
      case "gte":
        if (!(typeof value === "string" && !/^-?\d/.test(value) ? sizeOf(value) >= Number(arg) : num >= Number(arg))) return `${column} must be at least ${arg}`;
        break;
      case "lt":
        if (!(typeof value === "string" && !/^-?\d/.test(value) ? sizeOf(value) < Number(arg) : num < Number(arg))) return `${column} must be less than ${arg}`;
        break;
      case "lte":
        if (!(typeof value === "string" && !/^-?\d/.test(value) ? sizeOf(value) <= Number(arg) : num <= Number(arg))) return `${column} must be at most ${arg}`;
        break;
      case "eq":
        if (s !== arg) return `${column} must be ${arg}`;
        break;
      case "ne":
        if (s === arg) return `${column} must not be ${arg}`;
        break;
      case "eqfield":
        if (s !== textOf(all[fieldName(arg)])) return `${column} must equal ${fieldName(arg)}`;
        break;
      case "nefield":
        if (s === textOf(all[fieldName(arg)])) return `${column} must differ from ${fieldName(arg)}`;
        break;
      case "oneof":
        if (!arg.split(/\s+/).includes(s)) return `${column} must be one of ${arg.split(/\s+/).join(", ")}`;
        break;
      case "numeric":
        if (!/^[-+]?\d+(\.\d+)?$/.test(s)) return `${column} must be numeric`;
        break;
      case "alpha":
        if (!/^[A-Za-z]+$/.test(s)) return `${column} must contain letters only`;
        break;
      case "alphanum":
        if (!/^[A-Za-z0-9]+$/.test(s)) return `${column} must contain letters and digits only`;
        break;
      default:
        break; // Unknown tags are not enforced (Daptin would fail the write; we prefer to accept).
    }
  }
  return null;
}

export function conform(tags: string, value: JsonValue): JsonValue {
  if (typeof value !== "string") return value;
  let s = value;
  for (const tag of tags.split(",").map((t) => t.trim())) {
    if (tag === "trim") s = s.trim();
    else if (tag === "lower") s = s.toLowerCase();
    else if (tag === "upper") s = s.toUpperCase();
    else if (tag === "email") s = s.trim().toLowerCase();
    else if (tag === "name") s = s.trim().replace(/\s+/g, " ");
    else if (tag === "title") s = s.replace(/\b\w/g, (c) => c.toUpperCase());
  }
  return s;
}

export function firstViolation(rules: RuleDef[] | undefined, attrs: Record<string, JsonValue>): { column: string; message: string } | null {
  for (const r of rules ?? []) {
    if (!(r.ColumnName in attrs)) continue; // Daptin validates only attributes present in the request.
    const msg = checkTags(r.ColumnName, r.Tags, attrs[r.ColumnName]!);
    if (msg) return { column: r.ColumnName, message: msg };
  }
  return null;
}
