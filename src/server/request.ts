// Reading requests: JSON bodies and the JSON:API resource envelope, with 400s that say what is wrong.
import { badRequest, conflict, DaptinError } from "../engine/errors.ts";
import type { WriteInput } from "../engine/data/crud.ts";
import type { JsonValue } from "../engine/schema/column-types/index.ts";

/** The largest request body any route reads. Bun.serve's own limit sits above it (see app.ts) as a backstop. */
export const MAX_BODY = 32 * 1024 * 1024;

const tooLarge = () => new DaptinError("too_large", "Body too large", { detail: `the request body exceeds ${MAX_BODY} bytes` });

/**
 * The request body, for every route that reads one: a declared length over the limit is refused before anything
 * is read; a body without a declared length (chunked) is read until it passes the limit, then refused.
 */
/** Requests without a Host header (HTTP/1.0) carry only the path; they are answered as if sent to this host. */
const NO_HOST_BASE = "http://localhost";

export function requestUrl(req: Request): URL {
  return req.url.charCodeAt(0) === 47 /* "/" */ ? new URL(req.url, NO_HOST_BASE) : new URL(req.url);
}

export async function readBody(req: Request): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY) throw tooLarge();
  // With a declared length the transport delivers exactly that many bytes: read it at once.
  if (declared !== null || !req.body) return new Uint8Array(await req.arrayBuffer().catch(unreadable));
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read().catch(unreadable);
    if (done) break;
    size += value.byteLength;
    if (size > MAX_BODY) {
      reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

function unreadable(e: unknown): never {
  // Bun's own cap (maxRequestBodySize) ends the stream with an error.
  if (e instanceof Error && /maxRequestBodySize/.test(e.message)) throw tooLarge();
  throw badRequest("Invalid body", "the request body could not be read");
}

const utf8 = new TextDecoder();

export async function readText(req: Request): Promise<string> {
  return utf8.decode(await readBody(req));
}

/**
 * How deeply a JSON request body may nest: above what json columns accept (100 levels) plus the JSON:API envelope
 * around a value, and far below the depths that make later JSON.stringify calls crawl (~4 s at 40,000 levels).
 */
export const MAX_BODY_NESTING = 128;

/**
 * A 400 when the JSON text nests objects and arrays deeper than MAX_BODY_NESTING. One linear pass before parsing:
 * brackets are counted outside strings (string contents are skipped with indexOf), without recursion.
 */
export function checkNesting(text: string): void {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      for (;;) {
        const end = text.indexOf('"', i + 1);
        // An unterminated string: JSON.parse says so.
        if (end < 0) return;
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 92 /* \ */) slashes++;
        i = end;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > MAX_BODY_NESTING) {
        throw badRequest("Body nested too deeply", `the request body nests objects and arrays deeper than ${MAX_BODY_NESTING} levels (the limit for JSON bodies)`);
      }
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
}

export async function readJson(req: Request): Promise<unknown> {
  const text = await readText(req);
  if (text.trim() === "") throw badRequest("Invalid body", "the request body is empty; expected a JSON document");
  checkNesting(text);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest("Invalid JSON", `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

/** `{"data": {"type", "id"?, "attributes", "relationships"?}}` -> engine write input. */
export function resourceInput(body: unknown, type: string): WriteInput {
  if (!isObject(body)) throw badRequest("Invalid document", "the body must be a JSON object with a \"data\" member");
  const data = body.data;
  if (data === undefined || data === null) throw badRequest("Invalid document", "the document has no \"data\" object", { pointer: "/data" });
  if (!isObject(data)) throw badRequest("Invalid document", "\"data\" must be a single resource object", { pointer: "/data" });
  if (typeof data.type !== "string" || data.type === "") {
    throw badRequest("Invalid document", "invalid record, no type was specified", { pointer: "/data/type" });
  }
  if (data.type !== type) throw conflict("Type mismatch", `data.type is "${data.type}" but this endpoint serves "${type}"`, { pointer: "/data/type" });
  const attributes = data.attributes ?? {};
  if (!isObject(attributes)) throw badRequest("Invalid document", "\"attributes\" must be an object", { pointer: "/data/attributes" });
  const relationships = data.relationships;
  if (relationships !== undefined && !isObject(relationships)) {
    throw badRequest("Invalid document", "\"relationships\" must be an object", { pointer: "/data/relationships" });
  }
  return { id: data.id, attributes: attributes as Record<string, JsonValue>, relationships };
}
