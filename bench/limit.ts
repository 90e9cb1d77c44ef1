// The physical limit: a minimal Bun.serve + bun:sqlite server answering the benchmark's routes with the same SQL
// and the same JSON:API shape as daptin, and no engine at all (no registry, no permission gate beyond the same
// WHERE clause, no validation). Every scenario is reported as a ratio to this.
// Usage: bun bench/limit.ts --db FILE --port N
import { Database, type SQLQueryBindings } from "bun:sqlite";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { db: { type: "string" }, port: { type: "string", default: "0" } } });
const db = new Database(values.db!, { strict: true });
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON");

// Parameters written `+?`, as daptin writes them: a bare `?` compared with a column used elsewhere in the statement
// makes SQLite re-prepare it on every call (see src/engine/db/sqlite.ts). The limit gets the same advantage.
const query = <R = unknown, P extends SQLQueryBindings[] = SQLQueryBindings[]>(text: string) => db.query<R, P>(text.replace(/\?/g, "+?"));

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));
const uuid = (b: Uint8Array | null) => {
  if (!b) return null;
  let s = "";
  for (let i = 0; i < 16; i++) s += HEX[b[i]!] + (i === 3 || i === 5 || i === 7 || i === 9 ? "-" : "");
  return s;
};
const bytes = (u: string) => Uint8Array.from(Buffer.from(u.replace(/-/g, ""), "hex"));

const COLS = `t.id AS __id, t.created_at, t.name, t.permission, t.price, t.published, t.reference_id, t.updated_at, t.version,
  (SELECT r.reference_id FROM category r WHERE r.id = t.category_id) AS category_id,
  (SELECT r.reference_id FROM user_account r WHERE r.id = t.user_account_id) AS user_account_id`;
const READ = "(t.permission & 2) != 0";

type Row = Record<string, any>;
/** A relationship member as daptin writes it: links to itself and to the related rows, and the linkage. */
const rel = (self: string, name: string, data: unknown) => ({ links: { self: `${self}/relationships/${name}`, related: `${self}/${name}` }, data });

function resource(r: Row) {
  const id = uuid(r.reference_id)!;
  const self = `/api/product/${id}`;
  const cat = uuid(r.category_id);
  const owner = uuid(r.user_account_id);
  return {
    type: "product",
    id,
    attributes: {
      __type: "product", category_id: cat, created_at: r.created_at, name: r.name, permission: r.permission, price: r.price,
      published: Boolean(r.published), reference_id: id, updated_at: r.updated_at, user_account_id: owner, version: r.version,
    },
    relationships: {
      category_id: rel(self, "category_id", cat ? { type: "category", id: cat } : null),
      user_account_id: rel(self, "user_account_id", owner ? { type: "user_account", id: owner } : null),
      usergroup_id: rel(self, "usergroup_id", []),
    },
  };
}
const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/vnd.api+json" } });

const byId = query<Row, [Uint8Array]>(`SELECT ${COLS} FROM product t WHERE t.reference_id = ?`);
const insert = query(`INSERT INTO product (name, price, published, category_id, reference_id, permission, version, created_at, updated_at)
  VALUES (?, ?, ?, (SELECT id FROM category WHERE reference_id = ?), ?, 2097151, 1, ?, ?)`);
const update = query(`UPDATE product SET price = ?, updated_at = ?, version = version + 1 WHERE reference_id = ?`);
const del = query(`DELETE FROM product WHERE reference_id = ?`);
// Totals are cached until a write, as daptin does: the limit must not do more work than the engine it bounds.
const counts = new Map<string, number>();

const server = Bun.serve({
  port: Number(values.port),
  hostname: "127.0.0.1",
  reusePort: false,
  async fetch(req) {
    const url = new URL(req.url);
    const parts = url.pathname.split("/").filter(Boolean);
    if (url.pathname === "/ping") return new Response("pong");
    if (url.pathname === "/action/product/restock") {
      // The same two writes as the daptin action, in one transaction.
      const { attributes: a } = (await req.json()) as { attributes: Row };
      const ref = Bun.randomUUIDv7();
      const now = new Date().toISOString();
      db.transaction(() => {
        insert.run(a.name, 1, 0, bytes(a.category_id), bytes(ref), now, now);
        update.run(2, now, bytes(ref));
      })();
      counts.clear();
      return new Response(JSON.stringify([{ ResponseType: "product", Attributes: resource(byId.get(bytes(ref))!).attributes }]), { headers: { "Content-Type": "application/json" } });
    }
    if (parts[0] !== "api" || parts[1] !== "product") return json({ errors: [{ status: "404" }] }, 404);
    if (parts.length === 2 && req.method === "GET") {
      const size = Number(url.searchParams.get("page[size]") ?? 10);
      const page = Number(url.searchParams.get("page[number]") ?? 1);
      const q = url.searchParams.get("query");
      let where = READ;
      const params: (string | number)[] = [];
      if (q) {
        const [f] = JSON.parse(q) as { column: string; value: string }[];
        where += " AND t.name = ?";
        params.push(f!.value);
      }
      // The page size as a literal, as daptin does (SQLite runs `LIMIT ?` markedly slower with subqueries in the select list).
      const rows = query<Row, (string | number)[]>(`SELECT ${COLS} FROM product t WHERE ${where} ORDER BY t.id ASC LIMIT ${Math.trunc(size)} OFFSET ?`).all(...params, (page - 1) * size);
      const key = `${where}|${params.join(",")}`;
      let total = counts.get(key);
      if (total === undefined) {
        total = (query<{ n: number }, (string | number)[]>(`SELECT count(*) AS n FROM product t WHERE ${where}`).get(...params))!.n;
        counts.set(key, total);
      }
      // Page links as daptin writes them: the other parameters sorted by name, then first/prev/next/last URLs.
      const last = Math.ceil(total / size);
      const others = [...url.searchParams].filter(([k]) => k !== "page[number]");
      const at = (n: number) => {
        const pairs = [...others, ["page[number]", String(n)]].sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0));
        return `${url.pathname}?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v!)}`).join("&")}`;
      };
      const body: Record<string, unknown> = {
        links: {
          current_page: page, first_page_url: page !== 1 ? at(1) : undefined, from: (page - 1) * size, last_page: last,
          last_page_url: last > 0 && page < last ? at(last) : undefined, next_page_url: last > 0 && page < last ? at(page + 1) : undefined,
          per_page: size, prev_page_url: page !== 1 ? at(page - 1) : undefined, to: page * size, total,
        },
        data: rows.map(resource),
      };
      if (url.searchParams.get("included_relations")) {
        const ids = [...new Set(rows.map((r) => r.category_id).filter(Boolean))] as Uint8Array[];
        const cats = ids.length
          ? query<Row, Uint8Array[]>(`SELECT t.id AS __id, t.reference_id, t.name, t.permission, t.created_at, t.updated_at, t.version,
              (SELECT r.reference_id FROM user_account r WHERE r.id = t.user_account_id) AS user_account_id
              FROM category t WHERE t.reference_id IN (${ids.map(() => "?").join(",")}) AND ${READ}`).all(...ids)
          : [];
        body.included = cats.map((c) => {
          const id = uuid(c.reference_id)!;
          const self = `/api/category/${id}`;
          const owner = uuid(c.user_account_id);
          return {
            type: "category",
            id,
            attributes: {
              __type: "category", created_at: c.created_at, name: c.name, permission: c.permission, reference_id: id,
              updated_at: c.updated_at, user_account_id: owner, version: c.version,
            },
            relationships: {
              product_id: rel(self, "product_id", []),
              user_account_id: rel(self, "user_account_id", owner ? { type: "user_account", id: owner } : null),
              usergroup_id: rel(self, "usergroup_id", []),
            },
          };
        });
      }
      return json(body);
    }
    if (parts.length === 2 && req.method === "POST") {
      const { data } = (await req.json()) as { data: { attributes: Row } };
      const a = data.attributes;
      const ref = Bun.randomUUIDv7();
      const now = new Date().toISOString();
      insert.run(a.name, a.price ?? 0, a.published ? 1 : 0, bytes(a.category_id), bytes(ref), now, now);
      counts.clear();
      return json({ data: resource(byId.get(bytes(ref))!) }, 201);
    }
    const id = parts[2]!;
    if (req.method === "GET") {
      const r = byId.get(bytes(id));
      return r ? json({ data: resource(r) }) : json({ errors: [{ status: "404" }] }, 404);
    }
    if (req.method === "PATCH") {
      const { data } = (await req.json()) as { data: { attributes: Row } };
      update.run(data.attributes.price, new Date().toISOString(), bytes(id));
      counts.clear();
      return json({ data: resource(byId.get(bytes(id))!) });
    }
    if (req.method === "DELETE") {
      del.run(bytes(id));
      counts.clear();
      return json({ meta: null });
    }
    return json({ errors: [{ status: "405" }] }, 405);
  },
});
console.error(`limit listening on ${server.port}`);
