// The `daptin` command as a subprocess: schema apply plans, refusals, exit codes, serve flags and signals.
import { describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, FIXTURES, runCli, startServer, tempDir } from "../helpers/daptin.ts";

const productSchema = join(FIXTURES, "schema_product.yaml");

describe("help and exit codes", () => {
  test("--help on every command exits 0", async () => {
    for (const args of [["--help"], ["serve", "--help"], ["schema", "--help"], ["schema", "apply", "--help"]]) {
      const r = await runCli(args);
      expect(`${args.join(" ")} ${r.code}`).toBe(`${args.join(" ")} 0`);
      expect(r.stdout).toContain("Usage: daptin");
    }
  });
  test("unknown command or option is a usage error (2)", async () => {
    expect((await runCli(["frobnicate"])).code).toBe(2);
    expect((await runCli(["schema", "apply", "--what"])).code).toBe(2);
    expect((await runCli(["schema", "apply"])).code).toBe(2);
    const missing = await runCli(["schema", "apply", "nope.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("nope.yaml: no such file");
  });
});

describe("schema apply", () => {
  test("prints the plan, applies it, and a second run changes nothing", async () => {
    const dir = tempDir();
    const db = join(dir, "d.db");
    const first = await runCli(["schema", "apply", productSchema, "--db", db]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("create table product");
    expect(first.stdout).toContain("create table category");
    expect(first.stdout).toContain("create join table product_product_id_has_usergroup_usergroup_id");
    expect(first.stdout).toMatch(/Applied \d+ changes/);
    const second = await runCli(["schema", "apply", productSchema, "--db", db, "--json"]);
    expect(second.code).toBe(0);
    const plan = JSON.parse(second.stdout);
    expect(plan.changes).toBe(0);
    expect(plan.steps).toEqual([]);
  });

  test("--dry-run prints the plan and leaves the database as it was", async () => {
    const dir = tempDir();
    const db = join(dir, "d.db");
    const dry = await runCli(["schema", "apply", productSchema, "--db", db, "--dry-run", "--json"]);
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan.applied).toBe(false);
    expect(plan.steps.some((s: any) => s.kind === "create_table" && s.table === "product")).toBe(true);
    expect(plan.steps.find((s: any) => s.table === "product").sql[0]).toContain('CREATE TABLE "product"');
    const real = await runCli(["schema", "apply", productSchema, "--db", db, "--json"]);
    expect(JSON.parse(real.stdout).steps.some((s: any) => s.table === "product")).toBe(true);
  });

  test("an invalid file prints file:line and exits 2 with nothing applied", async () => {
    const dir = tempDir();
    const db = join(dir, "d.db");
    const bad = join(dir, "schema_bad.yaml");
    writeFileSync(bad, "Tables:\n  - TableName: gadget\n    Columns:\n      - Name: size\n        DataType: int(11)\n        IsNullable: sometimes\n");
    const r = await runCli(["schema", "apply", bad, "--db", db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${bad}:6:`);
    expect(r.stderr).toContain("IsNullable must be true or false");
    expect(r.stderr.split("\n").filter(Boolean).length).toBe(1);
    expect(existsSync(db)).toBe(false);
  });

  test("a change SQLite cannot migrate is refused with a reason and nothing is applied", async () => {
    const dir = tempDir();
    copyFileSync(productSchema, join(dir, "schema_product.yaml"));
    const s = await startServer({ dir });
    expect((await api(s, "POST", "/api/product", { data: { type: "product", attributes: { name: "A" } } })).status).toBe(201);
    await s.stop();
    const db = join(dir, "daptin.db");
    const change = join(dir, "change.yaml");
    writeFileSync(change, [
      "Tables:",
      "  - TableName: product",
      "    Columns:",
      "      - {Name: weight, ColumnType: measurement, DataType: int(11)}", // NOT NULL, no default, table has rows
      "      - {Name: notes, ColumnType: content, DataType: text, IsNullable: true}", // fine on its own
      "  - TableName: gizmo",
      "    Columns: [{Name: name, ColumnType: label, DataType: varchar(10)}]",
      "",
    ].join("\n"));
    const r = await runCli(["schema", "apply", change, "--db", db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("product.weight");
    expect(r.stderr).toContain("NOT NULL");
    const typeChange = join(dir, "type.yaml");
    writeFileSync(typeChange, "Tables:\n  - TableName: product\n    Columns: [{Name: name, ColumnType: label, DataType: int(11)}]\n");
    const t = await runCli(["schema", "apply", typeChange, "--db", db]);
    expect(t.code).toBe(1);
    expect(t.stderr).toContain("type change");
    // Nothing of the refused plans exists: the nullable column and the new table were not half-applied.
    const check = await startServer({ dir: tempDir(), args: ["--db", db] });
    const world = await api(check, "GET", "/api/world?query=" + encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: "gizmo" }])));
    expect(world.body.data).toEqual([]);
    const prod = await api(check, "GET", "/api/product");
    expect(prod.body.data[0].attributes).not.toHaveProperty("notes");
    await check.stop();
  });

  test("adding a nullable column to a populated table works and keeps the rows", async () => {
    const dir = tempDir();
    const db = join(dir, "d.db");
    expect((await runCli(["schema", "apply", productSchema, "--db", db])).code).toBe(0);
    const s = await startServer({ dir: tempDir(), args: ["--db", db] });
    await api(s, "POST", "/api/product", { data: { type: "product", attributes: { name: "Kept" } } });
    await s.stop();
    const add = join(dir, "add.yaml");
    writeFileSync(add, "Tables:\n  - TableName: product\n    Columns:\n      - {Name: notes, ColumnType: content, DataType: text, IsNullable: true}\n      - {Name: stock, ColumnType: measurement, DataType: int(11), DefaultValue: '0'}\n");
    const r = await runCli(["schema", "apply", add, "--db", db]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("add column product.notes");
    expect(r.stdout).toContain("add column product.stock");
    const s2 = await startServer({ dir: tempDir(), args: ["--db", db] });
    const list = await api(s2, "GET", "/api/product");
    expect(list.body.data[0].attributes).toMatchObject({ name: "Kept", notes: null, stock: 0 });
    await s2.stop();
  });
});

describe("serve", () => {
  test("reads DAPTIN_PORT and Daptin's flag spellings, logs Daptin-style lines, stops cleanly on SIGTERM", async () => {
    const dir = tempDir();
    const port = 20000 + Math.floor(Math.random() * 20000);
    const proc = Bun.spawn([...(await import("../helpers/daptin.ts")).daptinCommand(), "serve", "-db_connection_string", join(dir, "x.db"), "--db_type", "sqlite3"], {
      cwd: dir, env: { ...process.env, DAPTIN_PORT: String(port), NO_COLOR: "1" }, stderr: "pipe", stdout: "pipe",
    });
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      await Bun.sleep(50);
      up = await fetch(`http://127.0.0.1:${port}/ping`).then((r) => r.ok, () => false);
    }
    expect(up).toBe(true);
    expect(await (await fetch(`http://127.0.0.1:${port}/ping`)).text()).toBe("pong");
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
    const log = await new Response(proc.stderr).text();
    expect(log).toMatch(/INFO\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] \[ProcessId=\d+\] Listening at port: :\d+/);
    expect(log).toContain("Stopped");
    expect(existsSync(join(dir, "x.db"))).toBe(true);
  });

  test("schema files in the working directory and --schema-dir are applied at start", async () => {
    const dir = tempDir();
    const other = tempDir();
    copyFileSync(productSchema, join(other, "schema_product.yaml"));
    writeFileSync(join(dir, "schema_note.json"), JSON.stringify({ Tables: [{ TableName: "note", Columns: [{ Name: "body", ColumnType: "content", DataType: "text" }] }] }));
    const s = await startServer({ dir, args: ["--schema-dir", other] });
    expect((await api(s, "GET", "/api/note")).status).toBe(200);
    expect((await api(s, "GET", "/api/product")).status).toBe(200);
    await s.stop();
  });

  test("a bad schema file in the working directory stops the start with file:line (exit 2)", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "schema_bad.yaml"), "Tables:\n  - TableName: x\n");
    const r = await runCli(["serve", "--port", "0"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("schema_bad.yaml:2:");
  });
});
