// Outcome attribute expressions (spec 40 section 3.3): `~path` (raw value), `$path` (text interpolation),
// `!js`, `{{js}}` and `js:js` (JavaScript in the sandbox). Anything else is a literal.
import type { JsonValue } from "../schema/column-types/index.ts";
import { runScript, type ScriptBudget, ScriptError } from "./sandbox.ts";

export type Context = Record<string, JsonValue>;

export class EvaluationError extends Error {}

/** Parsed paths: they come from action definitions, so there are few and they repeat on every call. */
const parsedPaths = new Map<string, string[]>();

function segmentsOf(path: string): string[] {
  let segments = parsedPaths.get(path);
  if (!segments) {
    segments = path.split(".").flatMap((seg, i) => {
      if (i === 0 && seg === "") return ["subject"];
      const parts: string[] = [];
      const m = /^([^[\]]*)((\[\d+\])*)$/.exec(seg);
      if (!m) return [seg];
      if (m[1]) parts.push(m[1]);
      for (const idx of m[2]!.matchAll(/\[(\d+)\]/g)) parts.push(idx[1]!);
      return parts;
    });
    if (parsedPaths.size >= 10_000) parsedPaths.clear();
    parsedPaths.set(path, segments);
  }
  return segments;
}

/** Walks `a.b[0].c`; an empty first segment means `subject` (`~.name`, `$.name`). */
function walk(ctx: Context, path: string, strict: boolean): JsonValue | undefined {
  const segments = segmentsOf(path);
  let cur: JsonValue | undefined = ctx;
  for (const [i, seg] of segments.entries()) {
    if (cur === null || cur === undefined) {
      if (strict && i < segments.length) throw new EvaluationError(`failed to evaluate value: ${segments.slice(0, i).join(".")} is nil`);
      return undefined;
    }
    if (typeof cur !== "object") throw new EvaluationError(`failed to evaluate value: ${segments.slice(0, i).join(".")} is not an object`);
    if (Array.isArray(cur)) {
      const n = Number(seg);
      if (!Number.isInteger(n)) throw new EvaluationError(`failed to evaluate value: ${seg} is not an index`);
      if (n >= cur.length) throw new EvaluationError(`failed to evaluate value: index ${n} out of range`);
      cur = cur[n];
    } else cur = (cur as Record<string, JsonValue>)[seg];
  }
  return cur;
}

const text = (v: JsonValue | undefined): string =>
  v === undefined || v === null ? "<nil>" : typeof v === "object" ? JSON.stringify(v) : String(v);

const INTERPOLATION = /\$([A-Za-z0-9_[\]]+)?(\.[A-Za-z0-9_[\]]+)*/g;

/** The JavaScript of a `!js`, `{{js}}` or `js:js` expression; undefined for anything else. */
function scriptBody(s: string): string | undefined {
  if (s.startsWith("!")) return s.slice(1);
  if (s.length > 3 && s.startsWith("{{") && s.endsWith("}}")) return s.slice(2, -2);
  if (s.startsWith("js:")) return s.slice(3);
  return undefined;
}

/** Whether any expression in `value` is JavaScript (the sandbox must be loaded before the chain runs). */
export function hasScript(value: JsonValue | undefined): boolean {
  if (typeof value === "string") return scriptBody(value) !== undefined;
  if (Array.isArray(value)) return value.some(hasScript);
  if (value !== null && typeof value === "object") return Object.values(value).some(hasScript);
  return false;
}

/** One string value: returns the evaluated value; `undefined` means "leave the key out". */
function evaluateString(s: string, ctx: Context, scripts: ScriptBudget): JsonValue | undefined {
  if (s === "") return "";
  const script = scriptBody(s);
  if (script !== undefined) return runScript(script, ctx, scripts);
  if (s.startsWith("~")) {
    const v = walk(ctx, s.slice(1), false);
    return v === null ? undefined : v;
  }
  if (!s.includes("$")) return s;
  let nullContainer = false;
  const out = s.replace(INTERPOLATION, (match) => {
    const path = match.slice(1);
    const segs = path.split(".");
    // A null container makes the whole attribute null (omitted); a missing intermediate key is an error.
    const parent = segs.length > 1 ? walk(ctx, segs.slice(0, -1).join("."), true) : ctx;
    if (parent === null) {
      nullContainer = true;
      return "";
    }
    return text(walk(ctx, path, true));
  });
  return nullContainer ? undefined : out;
}

/**
 * Evaluates outcome attributes recursively (maps drop undefined/null values; arrays keep them). `scripts` is the
 * action call's script-time budget.
 */
export function evaluate(value: JsonValue, ctx: Context, scripts: ScriptBudget): JsonValue | undefined {
  if (typeof value === "string") return evaluateString(value, ctx, scripts);
  if (Array.isArray(value)) return value.map((v) => evaluate(v, ctx, scripts) ?? null);
  if (value !== null && typeof value === "object") {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value)) {
      const e = evaluate(v, ctx, scripts);
      if (e !== undefined && e !== null) out[k] = e;
    }
    return out;
  }
  return value;
}

/**
 * What a string expression will evaluate to, computed before the chain runs: literals, `~path` and `$path` whose
 * first segment no outcome of the chain sets (`later`: their References). Undefined for scripts, for paths an
 * outcome may still set, and for anything that fails now.
 */
export function evaluateAhead(value: JsonValue | undefined, ctx: Context, later: Set<string>, scripts: ScriptBudget): JsonValue | undefined {
  if (typeof value !== "string") return value === null || typeof value === "object" ? undefined : value;
  if (scriptBody(value) !== undefined) return undefined;
  const paths = value.startsWith("~") ? [value.slice(1)] : [...value.matchAll(INTERPOLATION)].map((m) => m[0].slice(1));
  if (paths.some((p) => later.has(segmentsOf(p)[0] ?? ""))) return undefined;
  try {
    return evaluateString(value, ctx, scripts);
  } catch {
    return undefined;
  }
}

/** Whether `script` mentions `name` as a word (a global it may read). */
function mentions(script: string, name: string): boolean {
  const at = script.indexOf(name);
  if (at < 0) return false;
  const word = /[\w$]/;
  for (let i = at; i >= 0; i = script.indexOf(name, i + 1)) {
    if (!word.test(script[i - 1] ?? "") && !word.test(script[i + name.length] ?? "")) return true;
  }
  return false;
}

/**
 * A script expression evaluated before the chain runs: only when its text names no Reference an outcome of the
 * chain sets (`later`), so it sees now what it would see in the chain (in-fields, attributes, subject, user). Its
 * value then stands for the expression in the chain (it is not evaluated again). Undefined when the script may
 * depend on an outcome, answers null, or fails now (the chain evaluates it and reports the failure its own way).
 */
export function scriptAhead(value: JsonValue | undefined, ctx: Context, later: Set<string>, scripts: ScriptBudget): JsonValue | undefined {
  const body = typeof value === "string" ? scriptBody(value) : undefined;
  if (body === undefined || [...later].some((name) => mentions(body, name))) return undefined;
  try {
    return runScript(body, ctx, scripts) ?? undefined;
  } catch (e) {
    if (e instanceof ScriptError) return undefined;
    throw e;
  }
}

/**
 * A Condition is true when it evaluates to true, or to the text "1" or "true". Its own errors (a path that is not
 * there, a script that fails or overruns) make it false; a sandbox that cannot run it now fails the call, or the
 * chain would go on as if the Condition were false.
 */
export function conditionHolds(condition: string | undefined, ctx: Context, scripts: ScriptBudget): boolean {
  if (!condition) return true;
  try {
    const v = evaluateString(condition, ctx, scripts);
    if (typeof v === "boolean") return v;
    const t = String(v ?? "").trim().toLowerCase();
    return t === "1" || t === "true";
  } catch (e) {
    if (e instanceof EvaluationError || e instanceof ScriptError) return false;
    throw e;
  }
}
