// The benchmark suite (issue 7): `npm run bench`. Starts the compiled dist/daptin and the limit server on the same
// seeded data, drives both with autocannon, and writes bench/results/<date>.md. Not part of `npm test`.
// Environment: BENCH_SIZES (default "10000,1000000"), BENCH_DURATION seconds (default 5), BENCH_WARMUP (default 1),
// BENCH_SOAK seconds (default 0 = no soak), BENCH_ONLY (regular expression on scenario names).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const BIN = join(ROOT, "dist/daptin");
const BUN = process.execPath;
const SIZES = (process.env.BENCH_SIZES ?? "10000,1000000").split(",").map(Number);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const SOAK = Number(process.env.BENCH_SOAK ?? 0);
// BENCH_ONLY: a regular expression on scenario names, to rerun a few while working on them (start-up timings skipped).
const ONLY = process.env.BENCH_ONLY ? new RegExp(process.env.BENCH_ONLY, "i") : undefined;
const log = (m: string) => process.stderr.write(`${m}\n`);

interface LoadResult { rps: number; p50: number; p99: number; errors: number; total: number }
interface Row { size: number; scenario: string; who: string; conns: number; ours: LoadResult; limit?: LoadResult; rssMb: number }

function cli(args: string[], cwd: string): string {
  const r = spawnSync(BIN, args, { cwd, encoding: "utf8", maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: "1" } });
  if (r.status !== 0) throw new Error(`daptin ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

async function waitFor(url: string, ms = 15000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await Bun.sleep(5);
  }
  throw new Error(`${url} did not answer`);
}

function freePort(): number {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const p = s.port!;
  s.stop(true);
  return p;
}

function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function startOurs(db: string, cwd: string): Promise<{ proc: ChildProcess; url: string }> {
  const port = freePort();
  const proc = spawn(BIN, ["serve", "--port", String(port), "--host", "127.0.0.1", "--db", db], { cwd, stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/ping`);
  return { proc, url };
}

async function startLimit(db: string): Promise<{ proc: ChildProcess; url: string }> {
  const port = freePort();
  const proc = spawn(BUN, [join(ROOT, "bench/limit.ts"), "--db", db, "--port", String(port)], { stdio: "ignore" });
  const url = `http://127.0.0.1:${port}`;
  await waitFor(`${url}/ping`);
  return { proc, url };
}

async function stop(p: ChildProcess): Promise<void> {
  p.kill("SIGTERM");
  await new Promise((r) => p.once("exit", r));
}

/** Runs autocannon in a Node child process (spec in a file: id lists exceed argv limits), sampling the server's RSS. */
async function load(spec: Record<string, unknown>, pid: number): Promise<{ r: LoadResult; rss: number }> {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 100);
  const file = join(tmpdir(), `daptin-load-${process.pid}-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify({ warmup: WARMUP, duration: DURATION, ...spec }));
  const proc = Bun.spawn(["node", join(ROOT, "bench/load.mjs"), file], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearInterval(timer);
  rmSync(file, { force: true });
  if (code !== 0) throw new Error(`load failed: ${err}`);
  return { r: JSON.parse(out.trim().split("\n").pop()!) as LoadResult, rss: peak };
}

interface Scenario {
  name: string;
  path: string;
  method?: string;
  body?: unknown;
  ids?: "sample" | "deletable";
  idMode?: "rotate" | "consume";
  write?: boolean;
}

function scenarios(ids: { categories: string[] }): Scenario[] {
  const q = encodeURIComponent(JSON.stringify([{ column: "name", operator: "is", value: "product 4242" }]));
  return [
    { name: "list first page", path: "/api/product?page[size]=10&sort=id" },
    { name: "list page 500", path: "/api/product?page[size]=10&page[number]=500&sort=id" },
    { name: "list, query on indexed name", path: `/api/product?sort=id&query=${q}` },
    { name: "list + included category", path: "/api/product?page[size]=10&sort=id&included_relations=category_id" },
    { name: "get by id", path: "/api/product/{id}", ids: "sample" },
    {
      name: "create", path: "/api/product", method: "POST", write: true,
      body: { data: { type: "product", attributes: { name: "new __N__", price: 9.5, published: true, category_id: ids.categories[0] } } },
    },
    { name: "update (PATCH price)", path: "/api/product/{id}", method: "PATCH", ids: "sample", write: true, body: { data: { type: "product", attributes: { price: 7.25 } } } },
    { name: "delete", path: "/api/product/{id}", method: "DELETE", ids: "deletable", idMode: "consume", write: true },
    {
      name: "action: create + update", path: "/action/product/restock", method: "POST", write: true,
      body: { attributes: { name: "restocked __N__", category_id: ids.categories[0] } },
    },
  ];
}

async function benchSize(size: number, rows: Row[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "daptin-bench-"));
  const db = join(dir, "ours.db");
  log(`\n== ${size.toLocaleString()} rows (${dir})`);
  cli(["schema", "apply", join(ROOT, "bench/schema_bench.yaml"), "--db", db], dir);
  cli(["user", "signup", "--email", "bench@example.com", "--password", "bench-password", "--db", db], dir);
  const token = cli(["user", "signin", "--email", "bench@example.com", "--password", "bench-password", "--db", db], dir).trim();
  // Rows for the delete runs: 2 runs x 20,000 requests per server.
  const reserve = 80_000;
  const seeded = spawnSync(BUN, [join(ROOT, "bench/seed.ts"), "--db", db, "--rows", String(size), "--reserve", String(reserve), "--out", join(dir, "ids.json")], { stdio: ["ignore", "inherit", "inherit"] });
  if (seeded.status !== 0) throw new Error("seeding failed");
  const ids = JSON.parse(readFileSync(join(dir, "ids.json"), "utf8")) as { categories: string[]; sample: string[]; deletable: string[] };
  const limitDb = join(dir, "limit.db");
  copyFileSync(db, limitDb);
  const auth = { Authorization: `Bearer ${token}`, "Content-Type": "application/vnd.api+json" };
  const plain = { "Content-Type": "application/vnd.api+json" };

  const ours = await startOurs(db, dir);
  const limit = await startLimit(limitDb);
  // Each server consumes its own half of the deletable ids.
  const half = Math.floor(ids.deletable.length / 2);
  const delIds = { ours: ids.deletable.slice(0, half), limit: ids.deletable.slice(half) };
  for (const s of scenarios(ids).filter((x) => !ONLY || ONLY.test(x.name))) {
    // The limit must do the same work: its answers to the read scenarios are byte for byte ours.
    if (!s.write) {
      const path = s.path.replace("{id}", ids.sample[0]!);
      const [a, b] = await Promise.all([ours.url, limit.url].map((u) => fetch(u + path).then((r) => r.text())));
      if (a !== b) throw new Error(`the limit's answer to ${path} differs from daptin's:\n${a.slice(0, 300)}\n${b!.slice(0, 300)}`);
    }
    const runs: { who: string; conns: number; headers: Record<string, string> }[] = s.write
      ? [{ who: "user", conns: 10, headers: auth }, { who: "user", conns: 50, headers: auth }]
      : [{ who: "guest", conns: 10, headers: plain }, { who: "guest", conns: 50, headers: plain }, { who: "user", conns: 50, headers: auth }];
    for (const run of runs) {
      const spec = (url: string, which: "ours" | "limit") => ({
        url, path: s.path, method: s.method ?? "GET", connections: run.conns, headers: run.headers, body: s.body,
        ids: s.ids === "sample" ? ids.sample : s.ids === "deletable" ? delIds[which] : undefined, idMode: s.idMode,
        ...(s.idMode === "consume" ? { amount: Math.min(20_000, delIds[which].length) } : {}),
      });
      const a = await load(spec(ours.url, "ours"), ours.proc.pid!);
      if (s.idMode === "consume") delIds.ours = delIds.ours.slice(a.r.total);
      const b = await load(spec(limit.url, "limit"), limit.proc.pid!);
      if (s.idMode === "consume") delIds.limit = delIds.limit.slice(b.r.total);
      rows.push({ size, scenario: s.name, who: run.who, conns: run.conns, ours: a.r, limit: b.r, rssMb: a.rss });
      log(`  ${s.name} [${run.who} c${run.conns}] ours ${Math.round(a.r.rps)} req/s p99 ${a.r.p99} ms | limit ${Math.round(b.r.rps)} req/s | ratio ${(a.r.rps / b.r.rps).toFixed(2)} | rss ${a.rss.toFixed(0)} MB`);
    }
  }
  // signin: bounded by bcrypt; compare the mean latency at concurrency 1 with the raw hash check.
  if (!ONLY || ONLY.test("signin")) {
    const signin = await load({ url: ours.url, path: "/action/user_account/signin", method: "POST", connections: 1, headers: plain, body: { attributes: { email: "bench@example.com", password: "bench-password" } } }, ours.proc.pid!);
    const hash = await Bun.password.hash("bench-password", { algorithm: "bcrypt", cost: 11 });
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t = performance.now();
      await Bun.password.verify("bench-password", hash);
      times.push(performance.now() - t);
  }
  times.sort((x, y) => x - y);
  const raw = times[5]!;
  rows.push({ size, scenario: `signin (raw bcrypt-11 check: ${raw.toFixed(0)} ms)`, who: "guest", conns: 1, ours: signin.r, rssMb: signin.rss });
  log(`  signin c1: p50 ${signin.r.p50} ms vs raw hash ${raw.toFixed(1)} ms`);
  }
  if (SOAK > 0 && size === SIZES.at(-1)) await soak(ours, auth, ids, rows, size);
  await stop(ours.proc);
  await stop(limit.proc);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * The soak: SOAK seconds of a blend of reads and writes (lists with includes, ever-new filter values, reads by id,
 * creates, updates, the action) at 50 connections, RSS sampled every 10 s. Growth is the RSS at the end minus the
 * RSS after the first minute (caches and the heap have settled by then).
 */
async function soak(ours: { proc: ChildProcess; url: string }, headers: Record<string, string>, ids: { categories: string[]; sample: string[] }, rows: Row[], size: number): Promise<void> {
  const pid = ours.proc.pid!;
  const series: number[] = [];
  const timer = setInterval(() => series.push(rssMb(pid)), 10_000);
  const q = (v: string) => encodeURIComponent(JSON.stringify([{ column: "name", operator: "is", value: v }]));
  const r = await load({
    url: ours.url, connections: 50, headers, duration: SOAK, warmup: 0, ids: ids.sample,
    mix: [
      { path: "/api/product?page[size]=10&sort=id&included_relations=category_id" },
      { path: `/api/product?sort=id&query=${q("product __N__")}` },
      { path: "/api/product/{id}" },
      { path: "/api/product", method: "POST", body: { data: { type: "product", attributes: { name: "soak __N__", price: 1, category_id: ids.categories[1] } } } },
      { path: "/api/product/{id}", method: "PATCH", body: { data: { type: "product", attributes: { price: 3.5 } } } },
      { path: "/action/product/restock", method: "POST", body: { attributes: { name: "soak restock __N__", category_id: ids.categories[2] } } },
      { path: "/api/product?page[size]=10&page[number]={page}&sort=-id" },
    ],
  }, pid);
  clearInterval(timer);
  const settled = series[Math.min(5, series.length - 1)] ?? r.rss;
  const end = rssMb(pid);
  const label = `soak ${SOAK}s, mixed reads and writes (RSS after 1 min ${settled.toFixed(0)} MB, at the end ${end.toFixed(0)} MB, growth ${(end - settled).toFixed(0)} MB)`;
  rows.push({ size, scenario: label, who: "user", conns: 50, ours: r.r, rssMb: r.rss });
  log(`  ${label}: ${Math.round(r.r.rps)} req/s, p99 ${r.r.p99} ms, errors ${r.r.errors}; RSS every 10 s: ${series.map((x) => x.toFixed(0)).join(" ")}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function startup(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const dir = mkdtempSync(join(tmpdir(), "daptin-start-"));
  const serve: number[] = [];
  const serveExisting: number[] = [];
  for (let i = 0; i < 5; i++) {
    for (const [fresh, list] of [[true, serve], [false, serveExisting]] as const) {
      const db = join(dir, "s.db");
      if (fresh) rmSync(db, { force: true }), rmSync(`${db}-wal`, { force: true }), rmSync(`${db}-shm`, { force: true });
      const port = freePort();
      const t = performance.now();
      const p = spawn(BIN, ["serve", "--port", String(port), "--host", "127.0.0.1", "--db", db], { cwd: dir, stdio: "ignore" });
      await waitFor(`http://127.0.0.1:${port}/ping`);
      list.push(performance.now() - t);
      await stop(p);
    }
  }
  out["serve, fresh database: exec to first /ping (ms)"] = median(serve);
  out["serve, existing database: exec to first /ping (ms)"] = median(serveExisting);
  // A 50-table schema for apispec and a no-op schema apply.
  const tables = Array.from({ length: 50 }, (_, i) => `  - TableName: t${i}\n    Columns:\n      - {Name: name, ColumnType: label, DataType: varchar(100), IsIndexed: true}\n      - {Name: amount, ColumnType: measurement, DataType: int(11), DefaultValue: "0"}\n      - {Name: note, ColumnType: content, DataType: text, IsNullable: true}`);
  const rels = Array.from({ length: 49 }, (_, i) => `  - {Subject: t${i + 1}, Relation: has_one, Object: t${i}}`);
  const schema = join(dir, "schema_50.yaml");
  writeFileSync(schema, `Tables:\n${tables.join("\n")}\nRelations:\n${rels.join("\n")}\n`);
  const db = join(dir, "fifty.db");
  cli(["schema", "apply", schema, "--db", db], dir);
  const time = (args: string[]) => {
    const xs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      cli(args, dir);
      xs.push(performance.now() - t);
    }
    return median(xs);
  };
  out["apispec on a 50-table schema (ms)"] = time(["apispec", "--db", db]);
  out["schema apply, no-op, 50 tables (ms)"] = time(["schema", "apply", schema, "--db", db]);
  // Idle RSS of a server after start-up.
  const port = freePort();
  const p = spawn(BIN, ["serve", "--port", String(port), "--host", "127.0.0.1", "--db", db], { cwd: dir, stdio: "ignore" });
  await waitFor(`http://127.0.0.1:${port}/ping`);
  await Bun.sleep(1000);
  out["idle RSS (MB)"] = rssMb(p.pid!);
  await stop(p);
  rmSync(dir, { recursive: true, force: true });
  return out;
}

function report(rows: Row[], start: Record<string, number>): string {
  const f = (n: number) => (n >= 100 ? Math.round(n).toLocaleString("en-US") : n.toFixed(1));
  const lines = [
    `# Benchmark ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC`,
    "",
    `Machine: ${navigator.hardwareConcurrency} cores, server and load generator (autocannon under Node) sharing it. ` +
      `Each run: ${WARMUP}s warm-up, ${DURATION}s measured. SQLite in WAL mode with synchronous=NORMAL (every acknowledged write ` +
      `survives a process crash). "limit" is bench/limit.ts: Bun.serve + bun:sqlite with the same SQL and JSON:API output and no engine.`,
    "",
    "| rows | scenario | caller | conns | req/s | p50 ms | p99 ms | errors | limit req/s | limit p99 ms | limit errors | ratio | peak RSS MB |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) =>
      `| ${r.size.toLocaleString("en-US")} | ${r.scenario} | ${r.who} | ${r.conns} | ${f(r.ours.rps)} | ${r.ours.p50} | ${r.ours.p99} | ${r.ours.errors} | ${r.limit ? f(r.limit.rps) : "-"} | ${r.limit ? r.limit.p99 : "-"} | ${r.limit ? r.limit.errors : "-"} | ${r.limit ? (r.ours.rps / r.limit.rps).toFixed(2) : "-"} | ${r.rssMb.toFixed(0)} |`,
    ),
    "",
    "| start-up and tools | value |",
    "|---|---:|",
    ...Object.entries(start).map(([k, v]) => `| ${k} | ${v.toFixed(0)} |`),
    "",
    "Notes. The limit answers every read scenario byte for byte like daptin (checked before each run) but runs no " +
      "engine: no token check, no permission gate for signed-in callers beyond the guest filter, no validation. " +
      "\"list page 500\" repeats one deep page: daptin serves it from a bookmark (the sort key of a row it has seen at " +
      "that position) after the first request, where the limit walks OFFSET each time; a cold deep page costs daptin " +
      "the same walk. Totals are remembered per caller's view and kept exact through inserts and updates (rows added " +
      "since are counted by id range), so no request counts the whole table once a view has been counted.",
    "",
    "Not measured yet: WebSocket fan-out (`/live` is a later issue).",
    "",
  ];
  return lines.join("\n");
}

if (!existsSync(BIN)) {
  log("building dist/daptin");
  spawnSync(BUN, [join(ROOT, "build.ts")], { cwd: ROOT, stdio: "inherit" });
}
const rows: Row[] = [];
const start = ONLY ? {} : await startup();
log(JSON.stringify(start));
for (const size of SIZES) await benchSize(size, rows);
if (ONLY) {
  // A partial run is for working on a scenario: it does not replace the published results.
  process.stdout.write(report(rows, start));
} else {
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  const file = join(ROOT, "bench/results", `${new Date().toISOString().slice(0, 10)}.md`);
  writeFileSync(file, report(rows, start));
  log(`\nwrote ${file}`);
}
