// The document is rebuilt when the schema or permissions change, not per request: one entry per caller view.
import type { Engine } from "../engine/engine.ts";
import type { Identity } from "../engine/identity/identity.ts";
import { buildOpenApi } from "./build.ts";

export class ApiSpecCache {
  private entries = new Map<string, { json?: string; yaml?: string; doc: object }>();
  private generation = -1;

  constructor(private readonly engine: Engine) {}

  private entry(who: Identity, serverUrl: string | undefined) {
    if (this.engine.generation !== this.generation) {
      this.entries.clear();
      this.generation = this.engine.generation;
    }
    const view = who.isAdmin ? "admin" : `${who.userId ?? "guest"}:${who.groupIds.join(",")}`;
    const key = `${view}|${serverUrl ?? ""}`;
    let e = this.entries.get(key);
    if (!e) {
      if (this.entries.size > 200) this.entries.clear();
      e = { doc: buildOpenApi(this.engine, who, { serverUrl }) };
      this.entries.set(key, e);
    }
    return e;
  }

  json(who: Identity, serverUrl?: string): string {
    const e = this.entry(who, serverUrl);
    e.json ??= JSON.stringify(e.doc, null, 2);
    return e.json;
  }

  yaml(who: Identity, serverUrl?: string): string {
    const e = this.entry(who, serverUrl);
    // Bun's native YAML writer is an order of magnitude faster than the yaml package on a document this size;
    // it goes through the JSON text so shared objects are not written as YAML anchors.
    e.yaml ??= Bun.YAML.stringify(JSON.parse(this.json(who, serverUrl)), null, 2) as string;
    return e.yaml;
  }
}
