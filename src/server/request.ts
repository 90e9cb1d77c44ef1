// Reading requests: JSON bodies and the JSON:API resource envelope, with 400s that say what is wrong.
import { badRequest, conflict } from "../engine/errors.ts";
import type { WriteInput } from "../engine/data/crud.ts";
import type { JsonValue } from "../engine/schema/column-types/index.ts";

const MAX_BODY = 32 * 1024 * 1024;

export async function readJson(req: Request): Promise<unknown> {
  const text = await req.text();
  if (text.length > MAX_BODY) throw badRequest("Body too large", `the request body exceeds ${MAX_BODY} bytes`);
  if (text.trim() === "") throw badRequest("Invalid body", "the request body is empty; expected a JSON document");
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
