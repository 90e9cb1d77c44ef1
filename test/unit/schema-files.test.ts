// Schema files that cannot be read are typed errors naming the file, on every path that reads them.
import { describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "../../src/engine/engine.ts";
import { DaptinError } from "../../src/engine/errors.ts";
import { readSchemaFile } from "../../src/engine/schema/load.ts";
import { tempDir } from "../helpers/daptin.ts";

const failure = (fn: () => unknown): DaptinError => {
  try {
    fn();
  } catch (e) {
    if (e instanceof DaptinError) return e;
    throw e;
  }
  throw new Error("did not throw");
};

describe("readSchemaFile", () => {
  test("a missing file or a directory is a `schema` error naming it, not a file-system error", () => {
    const dir = tempDir();
    const missing = join(dir, "schema_gone.yaml");
    expect(failure(() => readSchemaFile(missing))).toMatchObject({ kind: "schema", detail: `schema file ${missing}: no such file` });
    expect(failure(() => readSchemaFile(missing, { reread: true })).detail).toStartWith(`schema file ${missing} no longer exists`);
    const folder = join(dir, "schema_folder.yaml");
    mkdirSync(folder);
    expect(failure(() => readSchemaFile(folder))).toMatchObject({ kind: "schema", detail: `schema file ${folder}: is a directory` });
  });

  test("opening an engine with a schema file that has gone says which", () => {
    const missing = join(tempDir(), "schema_gone.yaml");
    expect(failure(() => Engine.open({ dbType: "sqlite", db: ":memory:" }, { schemaFiles: [missing] }))).toMatchObject({ kind: "schema", title: "Schema file unreadable" });
  });
});
