// /action/{type}/{name}: every verb runs the action; attributes come from the JSON body (with or without the
// `attributes` wrapper), a form body, and the query string. Answers an array of client instructions.
import type { Engine } from "../../engine/engine.ts";
import { badRequest, DaptinError } from "../../engine/errors.ts";
import type { Identity } from "../../engine/identity/identity.ts";
import type { JsonValue } from "../../engine/schema/column-types/index.ts";
import { errorHeaders, STATUS } from "../errors.ts";
import { checkNesting, readBody, readText } from "../request.ts";

const JSON_TYPE = "application/json; charset=utf-8";
const LOOKS_LIKE_JSON = /^\s*[[{]/;

async function gatherAttributes(req: Request, url: URL): Promise<Record<string, JsonValue>> {
  const attrs: Record<string, JsonValue> = {};
  for (const [k, v] of url.searchParams) if (k !== "token" && !(k in attrs)) attrs[k] = v;
  if (req.method === "GET" || req.method === "HEAD") return attrs;
  const type = req.headers.get("content-type") ?? "";
  // curl sends JSON as application/x-www-form-urlencoded by default, so only multipart skips the JSON attempt.
  if (type.includes("multipart/form-data")) {
    const body = await readBody(req);
    const form = await new Response(body, { headers: { "Content-Type": type } }).formData().catch(() => {
      throw badRequest("Invalid body", "the form body could not be read");
    });
    for (const [k, v] of form) attrs[k] = typeof v === "string" ? v : v.name;
    return attrs;
  }
  const text = await readText(req);
  if (text.trim() === "") return attrs;
  // A body that looks like JSON is held to the JSON depth limit before it is parsed (a form body is not JSON).
  if (LOOKS_LIKE_JSON.test(text)) checkNesting(text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // Daptin reads a non-JSON body as a form.
    for (const [k, v] of new URLSearchParams(text)) attrs[k] = v;
    return attrs;
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) throw badRequest("Invalid body", "the body must be a JSON object");
  const { attributes, ...rest } = body as Record<string, JsonValue>;
  Object.assign(attrs, rest);
  if (attributes !== undefined && attributes !== null) {
    if (typeof attributes !== "object" || Array.isArray(attributes)) throw badRequest("Invalid body", "\"attributes\" must be an object");
    Object.assign(attrs, attributes);
  }
  return attrs;
}

export function actionError(e: DaptinError): Response {
  const status = STATUS[e.kind];
  const message = e.detail ?? e.title;
  const body = [{ ResponseType: "client.notify", Attributes: { __type: "client.notify", message, title: "failed", type: "error" } }];
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": JSON_TYPE, ...errorHeaders(e) } });
}

/** `client` is the caller's address (the authentication throttle counts attempts per address). */
export async function runAction(engine: Engine, who: Identity, req: Request, url: URL, type: string, name: string, client?: string): Promise<Response> {
  try {
    const attributes = await gatherAttributes(req, url);
    const responses = await engine.actions.run(who, type, name, attributes, undefined, { client });
    return new Response(JSON.stringify(responses), { headers: { "Content-Type": JSON_TYPE } });
  } catch (e) {
    if (e instanceof DaptinError) return actionError(e);
    throw e;
  }
}
