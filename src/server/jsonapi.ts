// JSON:API documents from engine resources: relationships with links, `links` paging object as Daptin writes it.
import type { Resource } from "../engine/data/resource.ts";
import type { ListResult } from "../engine/data/crud.ts";

export function resourceObject(r: Resource): Record<string, unknown> {
  const relationships: Record<string, unknown> = {};
  const names = Object.keys(r.relationships);
  if (names.length > 1) names.sort();
  const self = `/api/${r.type}/${r.id}`;
  for (const name of names) {
    const rel = r.relationships[name]!;
    const member: Record<string, unknown> = { links: { self: `${self}/relationships/${name}`, related: `${self}/${name}` } };
    if (rel.data !== undefined) member.data = rel.data;
    relationships[name] = member;
  }
  return { type: r.type, id: r.id, attributes: r.attributes, relationships };
}

/**
 * Daptin's `links`: page counters plus first/prev/next/last URLs that keep the other query parameters (sorted by
 * name, in byte order). Members are written in alphabetical order; absent URLs are undefined, which JSON leaves out.
 * A request paged with `page[offset]`/`page[limit]` gets URLs in that style. The counters are repeated in `meta`,
 * where JSON:API allows numbers (`links` members must be links; Daptin's clients read them there).
 */
export function pageMembers(url: URL, result: ListResult): { links: Record<string, unknown>; meta: Record<string, number> } {
  const { total, page, size, offset } = result;
  const last = Math.ceil(total / size);
  const q = url.searchParams;
  const byOffset = q.has("page[offset]") || q.has("page[limit]");
  const hasPrev = byOffset ? offset > 0 : page !== 1;
  const hasNext = byOffset ? offset + size < total : last > 0 && page < last;
  const key = byOffset ? "page[offset]" : "page[number]";
  let at: ((n: number) => string) | undefined;
  if (hasPrev || hasNext) {
    // The other parameters are sorted and encoded once; only the page number (or offset) differs between the URLs.
    const pairs: [string, string | null][] = [...q].filter(([k]) => k !== key);
    pairs.push([key, null]);
    // Byte order of the names, as Go's url.Values.Encode sorts them (and far cheaper than localeCompare).
    pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const i = pairs.findIndex(([, v]) => v === null);
    const text = (xs: [string, string | null][]) => xs.map(([k, v]) => `${k}=${encodeURIComponent(v!)}`).join("&");
    const before = text(pairs.slice(0, i));
    const after = text(pairs.slice(i + 1));
    const head = `${url.pathname}?${before}${before ? "&" : ""}${key}=`;
    const tail = after ? `&${after}` : "";
    at = (n) => `${head}${n}${tail}`;
  }
  const counters = { current_page: page, from: offset, last_page: last, per_page: size, to: offset + size, total };
  const links = {
    current_page: page,
    first_page_url: hasPrev ? at!(byOffset ? 0 : 1) : undefined,
    from: offset,
    last_page: last,
    last_page_url: hasNext ? at!(byOffset ? (last - 1) * size : last) : undefined,
    next_page_url: hasNext ? at!(byOffset ? offset + size : page + 1) : undefined,
    per_page: size,
    prev_page_url: hasPrev ? at!(byOffset ? Math.max(0, offset - size) : page - 1) : undefined,
    to: offset + size,
    total,
  };
  return { links, meta: counters };
}
