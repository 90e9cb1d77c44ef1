// AccessGroups on a table and on an action: group grants on its `world` or `action` row, set again (not duplicated)
// when the schema is applied again, and an unknown group refuses the schema.
import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers/daptin.ts";

const schema = (permission: number, group = "users") => `Tables:
  - TableName: memo
    AccessGroups: [{Name: ${group}, Permission: ${permission}}]
    Columns:
      - {Name: body, ColumnType: content, DataType: text}
Actions:
  - Name: pin
    OnType: memo
    InstanceOptional: true
    AccessGroups: [{Name: users, Permission: ${permission + 1}}]
    OutFields:
      - {Type: client.notify, Method: ACTIONRESPONSE, Attributes: {message: pinned}}
`;

describe("AccessGroups", () => {
  test("table and action grants are upserted on every apply; an unknown group is refused", async () => {
    const dir = tempDir();
    const db = join(dir, "a.db");
    const file = join(dir, "schema_memo.yaml");
    const grants = () => {
      const d = new Database(db, { readonly: true });
      const q = (sql: string) => d.query<{ permission: number }, []>(sql).all().map((r) => r.permission);
      const out = {
        table: q(`SELECT j.permission FROM world_world_id_has_usergroup_usergroup_id j JOIN world w ON w.id = j.world_id
          JOIN usergroup g ON g.id = j.usergroup_id WHERE w.table_name = 'memo' AND g.name = 'users'`),
        action: q(`SELECT j.permission FROM action_action_id_has_usergroup_usergroup_id j JOIN action a ON a.id = j.action_id
          JOIN usergroup g ON g.id = j.usergroup_id WHERE a.action_name = 'pin' AND g.name = 'users'`),
      };
      d.close();
      return out;
    };
    writeFileSync(file, schema(16384));
    expect((await runCli(["schema", "apply", file, "--db", db])).code).toBe(0);
    expect(grants()).toEqual({ table: [16384], action: [16385] });
    writeFileSync(file, schema(32768));
    expect((await runCli(["schema", "apply", file, "--db", db])).code).toBe(0);
    expect(grants()).toEqual({ table: [32768], action: [32769] });
    writeFileSync(file, schema(1, "nobody"));
    const refused = await runCli(["schema", "apply", file, "--db", db]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("nobody");
    expect(grants()).toEqual({ table: [32768], action: [32769] });
  });
});
