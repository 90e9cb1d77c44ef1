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
 */
export function pageLinks(url: URL, result: ListResult): Record<string, unknown> {
  const { total, page, size } = result;
  const last = Math.ceil(total / size);
  const hasPrev = page !== 1;
  const hasNext = last > 0 && page < last;
  let at: ((n: number) => string) | undefined;
  if (hasPrev || hasNext) {
    // The other parameters are sorted and encoded once; only the page number differs between the URLs.
    const pairs: [string, string | null][] = [...url.searchParams].filter(([k]) => k !== "page[number]");
    pairs.push(["page[number]", null]);
    // Byte order of the names, as Go's url.Values.Encode sorts them (and far cheaper than localeCompare).
    pairs.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const i = pairs.findIndex(([, v]) => v === null);
    const text = (xs: [string, string | null][]) => xs.map(([k, v]) => `${k}=${encodeURIComponent(v!)}`).join("&");
    const before = text(pairs.slice(0, i));
    const after = text(pairs.slice(i + 1));
    const head = `${url.pathname}?${before}${before ? "&" : ""}page[number]=`;
    const tail = after ? `&${after}` : "";
    at = (n) => `${head}${n}${tail}`;
  }
  return {
    current_page: page,
    first_page_url: hasPrev ? at!(1) : undefined,
    from: (page - 1) * size,
    last_page: last,
    last_page_url: hasNext ? at!(last) : undefined,
    next_page_url: hasNext ? at!(page + 1) : undefined,
    per_page: size,
    prev_page_url: hasPrev ? at!(page - 1) : undefined,
    to: page * size,
    total,
  };
}
