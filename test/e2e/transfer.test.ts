// Export 50,000 rows and import them into another database: the same data comes back.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, runCli, tempDir } from "../helpers/daptin.ts";

test("daptin export / import round trip of 50,000 rows", async () => {
  const dir = tempDir();
  const a = join(dir, "a.db");
  const b = join(dir, "b.db");
  const schema = join(FIXTURES, "schema_ticket.yaml");
  for (const db of [a, b]) expect((await runCli(["schema", "apply", schema, "--db", db])).code).toBe(0);
  // generate_random_data makes at most 10,000 rows a call.
  for (let i = 0; i < 5; i++) {
    const gen = await runCli(["action", "run", "world", "generate_random_data", "--attr", "table_name=ticket", "--attr", "count=10000", "--db", a]);
    expect(gen.code).toBe(0);
  }
  const exported = await runCli(["export", "ticket", "--db", a]);
  expect(exported.code).toBe(0);
  const file = join(dir, "ticket.json");
  writeFileSync(file, exported.stdout);
  expect(JSON.parse(exported.stdout).ticket).toHaveLength(50000);
  const imported = await runCli(["import", "ticket", file, "--db", b, "--json"]);
  expect(imported.code).toBe(0);
  expect(JSON.parse(imported.stdout)[0].Attributes.rows_imported).toBe(50000);
  const cols = ["export", "ticket", "--format", "csv", "--columns", "reference_id,title,status,priority"];
  const left = await runCli([...cols, "--db", a]);
  const right = await runCli([...cols, "--db", b]);
  expect(right.stdout.split("\r\n").length).toBe(50002);
  expect(right.stdout).toBe(left.stdout);
  // Importing the same rows again collides on their ids: nothing is written.
  const again = await runCli(["import", "ticket", file, "--db", b]);
  expect(again.code).toBe(1);
  expect((await runCli([...cols, "--db", b])).stdout).toBe(left.stdout);
}, 120_000);
