// restart_daptin re-reads the schema files the server started with (issue 11): a file that has gone, turned into a
// directory or become unreadable since is a 422 naming it, never a 500, and the server keeps its schema.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, startServer, tempDir, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
let dir: string;
let file: string;
const schema = ["Tables:", "  - TableName: gadget", "    Columns:", "      - {Name: name, ColumnType: label, DataType: varchar(50)}", ""].join("\n");
const restart = () => api(s, "POST", "/action/world/restart_daptin", "{}");

beforeAll(async () => {
  dir = tempDir();
  file = join(dir, "schema_gadget.yaml");
  writeFileSync(file, schema);
  s = await startServer({ dir });
});
afterAll(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("restart_daptin when a start-up schema file changed on disk", () => {
  test("a deleted file is a 422 saying it no longer exists; the schema in force stays", async () => {
    expect((await restart()).status).toBe(200);
    rmSync(file);
    const r = await restart();
    expect(r.status).toBe(422);
    expect(r.body[0].Attributes.message).toContain(`schema file ${file} no longer exists`);
    expect((await api(s, "POST", "/api/gadget", { data: { type: "gadget", attributes: { name: "still here" } } })).status).toBe(201);
    expect(s.log()).not.toContain("ENOENT");
  });

  test("a directory in its place is a 422 saying so", async () => {
    mkdirSync(file);
    const r = await restart();
    expect(r.status).toBe(422);
    expect(r.body[0].Attributes.message).toBe(`schema file ${file}: is a directory`);
    rmSync(file, { recursive: true });
  });

  test("put back, the file reloads again", async () => {
    writeFileSync(file, schema);
    expect((await restart()).status).toBe(200);
  });
});
