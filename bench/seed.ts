// Fills the benchmark tables straight through SQLite (the API would take minutes for a million rows):
// 100 categories, N products, and R extra products kept for the delete scenario. Prints the ids it needs.
// Usage: bun bench/seed.ts --db FILE --rows N --reserve R --out ids.json
import { Database } from "bun:sqlite";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { db: { type: "string" }, rows: { type: "string" }, reserve: { type: "string", default: "0" }, out: { type: "string" } } });
const rows = Number(values.rows);
const reserve = Number(values.reserve);
const db = new Database(values.db!, { strict: true });
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF");
const bytes = (u: string) => Uint8Array.from(Buffer.from(u.replace(/-/g, ""), "hex"));
const now = new Date().toISOString();

const cats: string[] = [];
const insertCat = db.query("INSERT INTO category (name, reference_id, permission, version, created_at, updated_at) VALUES (?, ?, 2097151, 1, ?, ?)");
const insertProduct = db.query(
  "INSERT INTO product (name, price, published, category_id, reference_id, permission, version, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 2097151, 1, ?, ?)",
);
const sample: string[] = [];
const deletable: string[] = [];
const started = performance.now();
db.transaction(() => {
  for (let i = 1; i <= 100; i++) {
    const id = Bun.randomUUIDv7();
    cats.push(id);
    insertCat.run(`category ${i}`, bytes(id), now, now);
  }
  const catIds = db.query<{ id: number }, []>("SELECT id FROM category ORDER BY id").all().map((r) => r.id);
  for (let i = 1; i <= rows + reserve; i++) {
    const id = Bun.randomUUIDv7();
    insertProduct.run(`product ${i}`, (i % 1000) / 10, i % 2, catIds[i % catIds.length]!, bytes(id), now, now);
    if (i <= rows && i % Math.max(1, Math.floor(rows / 1000)) === 0) sample.push(id);
    if (i > rows) deletable.push(id);
    if (i % 200_000 === 0) process.stderr.write(`  seeded ${i} rows\n`);
  }
})();
db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
db.close();
writeFileSync(values.out!, JSON.stringify({ categories: cats, sample, deletable }));
process.stderr.write(`  seeded ${rows + reserve} products in ${Math.round(performance.now() - started)} ms\n`);
