// JSON:API documents from engine resources: relationships with links, `links` paging object as Daptin writes it.
import type { Resource } from "../engine/data/resource.ts";
import type { ListResult } from "../engine/data/crud.ts";

export function resourceObject(r: Resource): Record<string, unknown> {
  const relationships: Record<string, unknown> = {};
  for (const name of Object.keys(r.relationships).sort()) {
    const rel = r.relationships[name]!;
    const self = `/api/${r.type}/${r.id}`;
    relationships[name] = {
      links: { self: `${self}/relationships/${name}`, related: `${self}/${name}` },
      ...(rel.data !== undefined ? { data: rel.data } : {}),
    };
  }
  return { type: r.type, id: r.id, attributes: r.attributes, relationships };
}

/** Daptin's `links`: page counters plus first/prev/next/last URLs that keep the other query parameters. */
export function pageLinks(url: URL, result: ListResult): Record<string, unknown> {
  const { total, page, size } = result;
  const last = Math.ceil(total / size);
  const links: Record<string, unknown> = {
    current_page: page,
    from: (page - 1) * size,
    last_page: last,
    per_page: size,
    to: page * size,
    total,
  };
  const at = (n: number) => {
    const q = new URLSearchParams(url.searchParams);
    q.set("page[number]", String(n));
    const pairs = [...q.entries()].sort(([a], [b]) => a.localeCompare(b));
    return `${url.pathname}?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`;
  };
  if (page !== 1) {
    links.first_page_url = at(1);
    links.prev_page_url = at(page - 1);
  }
  if (last > 0 && page < last) {
    links.next_page_url = at(page + 1);
    links.last_page_url = at(last);
  }
  return Object.fromEntries(Object.entries(links).sort(([a], [b]) => a.localeCompare(b)));
}
