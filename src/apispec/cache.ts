// OpenAPI documents are rebuilt when the schema or permissions change, not per request. Each is serialized once per
// caller view (what the caller may see, not who they are) with a placeholder for the `servers` URL, which comes from
// the request (its Host header) and is spliced in at answer time: no client multiplies entries by sending new hosts.
// Entries are kept by size, least recently used out first.
import type { Engine } from "../engine/engine.ts";
import type { Identity } from "../engine/identity/identity.ts";
import { type ApiView, apiView, buildOpenApi } from "./build.ts";

export type SpecFormat = "json" | "yaml";

/** Bytes of serialized documents kept at once; a document larger than this is built for each request. */
export const SPEC_CACHE_BYTES = 64 * 1024 * 1024;

/** Where the server URL goes; random per process, so no name in a schema can contain it. */
const PLACEHOLDER = `daptinserverurl${crypto.randomUUID().replaceAll("-", "")}`;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A document as UTF-8 with a hole where the server URL goes, and the digest of the rest (for ETags). */
interface Template {
  head: Uint8Array;
  tail: Uint8Array;
  digest: string;
}

interface Entry {
  json: Template;
  yaml?: Template;
  bytes: number;
}

export interface SpecAnswer {
  /** Differs whenever the body does: another view, schema, server URL or format. */
  etag: string;
  body: () => Blob;
}

const sha256 = (...parts: (string | Uint8Array)[]) => {
  const h = new Bun.CryptoHasher("sha256");
  for (const p of parts) h.update(p);
  return h.digest("hex");
};

function serialize(doc: object, format: SpecFormat): string {
  const json = JSON.stringify(doc, null, 2);
  return format === "json" ? json : yamlOf(json);
}

// Bun's native YAML writer is an order of magnitude faster than the yaml package on a document this size; it goes
// through the JSON text so shared objects are not written as YAML anchors.
const yamlOf = (json: string) => Bun.YAML.stringify(JSON.parse(json), null, 2) as string;

/**
 * A string as the format writes it. The placeholder (plain, alphanumeric) is `"..."` in JSON and bare in YAML; a URL
 * is written as Bun's YAML writer writes it in the whole document (bare or double-quoted on one line), so a spliced
 * answer is byte for byte the document built with that URL.
 */
function scalar(format: SpecFormat, s: string): string {
  if (format === "json") return JSON.stringify(s);
  const y = Bun.YAML.stringify(s) as string;
  // A JSON string is a double-quoted YAML scalar too: the fallback should the writer ever span lines.
  return y.includes("\n") ? JSON.stringify(s) : y;
}

/** `text` cut at its one placeholder; undefined when it is not there exactly once (nothing to splice safely). */
function template(text: string, format: SpecFormat): Template | undefined {
  const token = scalar(format, PLACEHOLDER);
  const at = text.indexOf(token);
  if (at < 0 || text.indexOf(token, at + token.length) >= 0) return undefined;
  const head = encoder.encode(text.slice(0, at));
  const tail = encoder.encode(text.slice(at + token.length));
  return { head, tail, digest: sha256(head, "\0", tail) };
}

const textOf = (t: Template, format: SpecFormat) => decoder.decode(t.head) + scalar(format, PLACEHOLDER) + decoder.decode(t.tail);

function answerOf(t: Template, format: SpecFormat, serverUrl: string): SpecAnswer {
  const url = encoder.encode(scalar(format, serverUrl));
  return { etag: `W/"${sha256(t.digest, "\0", url)}"`, body: () => new Blob([t.head, url, t.tail]) };
}

/** The document `who` sees, as text, built for this one call (the CLI). No `serverUrl`: no `servers` entry. */
export function openApiText(engine: Engine, who: Identity, format: SpecFormat, serverUrl?: string): string {
  return serialize(buildOpenApi(engine, apiView(engine, who), { serverUrl }), format);
}

export class ApiSpecCache {
  /** By view key, least recently used first. */
  private entries = new Map<string, Entry>();
  private bytes = 0;
  private generation = -1;

  constructor(
    private readonly engine: Engine,
    private readonly maxBytes = SPEC_CACHE_BYTES,
  ) {}

  /** What is kept: for tests and diagnostics. */
  get stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }

  /** The document `who` sees, naming `serverUrl` as its server. */
  answer(who: Identity, format: SpecFormat, serverUrl: string): SpecAnswer {
    if (this.engine.generation !== this.generation) {
      this.entries.clear();
      this.bytes = 0;
      this.generation = this.engine.generation;
    }
    const view = apiView(this.engine, who);
    let e = this.entries.get(view.key);
    if (e) {
      // Most recently used goes last.
      this.entries.delete(view.key);
      this.entries.set(view.key, e);
    } else {
      const doc = buildOpenApi(this.engine, view, { serverUrl: PLACEHOLDER });
      const json = template(serialize(doc, "json"), "json");
      if (!json) return this.uncached(view, format, serverUrl);
      e = { json, bytes: json.head.byteLength + json.tail.byteLength };
      this.keep(view.key, e);
    }
    let t = e[format];
    if (!t) {
      t = template(yamlOf(textOf(e.json, "json")), "yaml");
      if (!t) return this.uncached(view, format, serverUrl);
      e.yaml = t;
      const added = t.head.byteLength + t.tail.byteLength;
      e.bytes += added;
      if (this.entries.get(view.key) === e) {
        this.bytes += added;
        this.trim(e);
      }
    }
    return answerOf(t, format, serverUrl);
  }

  private keep(key: string, e: Entry): void {
    this.entries.set(key, e);
    this.bytes += e.bytes;
    this.trim(e);
  }

  /** Drops the least recently used entries until the rest fit; `current` too when it alone does not. */
  private trim(current: Entry): void {
    for (const [key, old] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      if (old === current) continue;
      this.entries.delete(key);
      this.bytes -= old.bytes;
    }
    if (this.bytes > this.maxBytes) {
      for (const [key, old] of this.entries) if (old === current) this.entries.delete(key);
      this.bytes -= current.bytes;
    }
  }

  /** A document that cannot be cut at its placeholder: built with the URL itself. */
  private uncached(view: ApiView, format: SpecFormat, serverUrl: string): SpecAnswer {
    const text = serialize(buildOpenApi(this.engine, view, { serverUrl }), format);
    return { etag: `W/"${sha256(text)}"`, body: () => new Blob([text]) };
  }
}
