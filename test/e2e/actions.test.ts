// The action engine: custom actions from a schema file, their outcomes, expressions, sandbox and transactions.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, pingWhile, runCli, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
const run = (name: string, attributes: Record<string, unknown>) => api(s, "POST", `/action/ticket/${name}`, { attributes });
const tickets = async () => (await api(s, "GET", "/api/ticket?page[size]=100&sort=created_at")).body.data.map((t: any) => t.attributes);

beforeAll(async () => {
  s = await startServer({ schemas: ["schema_ticket.yaml"] });
});
afterAll(async () => {
  await s.stop();
});

describe("outcome chains", () => {
  test("POST with a Reference, interpolation, JavaScript, Condition and SkipInResponse", async () => {
    const r = await run("open_ticket", { title: "  printer on fire  ", urgent: true });
    expect(r.status).toBe(200);
    const [created, urgent] = r.body;
    const [ticket] = (await tickets()).filter((t: any) => t.title === "printer on fire");
    expect(ticket.priority).toBe(5);
    expect(created).toEqual({ ResponseType: "client.notify", Attributes: { __type: "client.notify", message: `Ticket ${ticket.reference_id} opened`, title: "Created", type: "success" } });
    expect(urgent.Attributes.message).toBe("URGENT: PRINTER ON FIRE");
    const calm = await run("open_ticket", { title: "paper jam", urgent: false });
    expect(calm.body.length).toBe(1); // the Condition skipped the warning
  });

  test("validations answer 422 with the field and rule and write nothing", async () => {
    const before = (await tickets()).length;
    const r = await run("open_ticket", { title: "ab" });
    expect(r.status).toBe(422);
    expect(r.body[0].Attributes.message).toContain("title");
    expect((await run("open_ticket", {})).status).toBe(422);
    expect((await tickets()).length).toBe(before);
  });

  test("an instance action needs its subject and sees it as `$.`", async () => {
    expect((await run("close_ticket", {})).status).toBe(400);
    const [t] = (await tickets()).filter((x: any) => x.title === "paper jam");
    const r = await run("close_ticket", { ticket_id: t.reference_id });
    expect(r.status).toBe(200);
    expect(r.body[r.body.length - 1].Attributes.message).toBe("Closed paper jam (was open)");
    expect((await api(s, "GET", `/api/ticket/${t.reference_id}`)).body.data.attributes.status).toBe("closed");
  });

  test("GET outcomes read rows for later outcomes", async () => {
    const r = await run("list_open", {});
    expect(r.body).toEqual([{ ResponseType: "client.notify", Attributes: { __type: "client.notify", message: "1 open" } }]);
  });

  test("a failing outcome rolls back every write of the call", async () => {
    const r = await run("fail_midway", {});
    expect(r.status).toBe(422);
    expect(r.body[0].ResponseType).toBe("client.notify");
    expect((await tickets()).some((t: any) => t.title === "half written")).toBe(false);
  });

  test("JavaScript runs in a sandbox: no host objects, helpers only, and a time limit", async () => {
    const probe = await run("sandbox_probe", {});
    expect(probe.body[0].Attributes.message).toBe("undefined,undefined,undefined,undefined,aGk=,36");
    const t = performance.now();
    const spin = await run("spin", {});
    expect(spin.status).toBe(400);
    expect(spin.body[0].Attributes.message).toContain("ran longer than");
    expect(performance.now() - t).toBeLessThan(3000);
    const digests = await run("digests", {});
    const [sha, hmac, round] = digests.body[0].Attributes.message.split(",");
    expect(sha).toBe(new Bun.CryptoHasher("sha256").update("abc").digest("hex"));
    expect(hmac).toBe(new Bun.CryptoHasher("sha256", "key").update("data").digest("hex"));
    expect(round).toBe("héllo");
    const escape = await run("escape", {});
    expect(escape.body[0].Attributes.message).toBe("undefinedundefinedundefined");
    const hog = await run("hog", {});
    expect(hog.status).toBe(400);
    // The server is unharmed.
    expect((await api(s, "GET", "/api/ticket?page[size]=1")).status).toBe(200);
  });

  test("unknown actions are 404s", async () => {
    expect((await run("nope", {})).status).toBe(404);
  });

  test("publish_to_topic: a table is a topic; an unknown topic is a 404, not \"Message published\"", async () => {
    const publish = (topicName: string) => api(s, "POST", "/action/world/publish_to_topic", { attributes: { topicName, message: { text: "hi" } } });
    const ok = await publish("ticket");
    expect(ok.status).toBe(200);
    expect(ok.body[1]).toEqual({ ResponseType: "publish_to_topic", Attributes: { message: "published", topic: "ticket" } });
    const unknown = await publish("no-such-topic");
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual([{ ResponseType: "client.notify", Attributes: expect.objectContaining({ type: "error", message: "topic not found: no-such-topic" }) }]);
  });
});

describe("daptin action run", () => {
  test("runs an action on the database and prints the response array", async () => {
    const r = await runCli(["action", "run", "ticket", "open_ticket", "--attr", "title=from the cli", "--attr", "urgent=true", "--db", s.db, "--json"]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out[1].Attributes.message).toBe("URGENT: FROM THE CLI");
    expect((await tickets()).some((t: any) => t.title === "from the cli")).toBe(true);
    const bad = await runCli(["action", "run", "ticket", "open_ticket", "--attr", "title=x", "--db", s.db]);
    expect(bad.code).toBe(2);
    expect((await runCli(["action", "run", "ticket", "open_ticket", "--attr", "broken", "--db", s.db])).code).toBe(2);
  });
});

describe("schema actions and actions written through the API", () => {
  const file = (name: string, text: string) => [{ name, file: `data:application/octet-stream;base64,${Buffer.from(text).toString("base64")}` }];

  test("upload_system_schema applies a schema at once; download_system_schema hands it back", async () => {
    expect((await api(s, "GET", "/api/gadget")).status).toBe(404);
    const yaml = "Tables:\n  - TableName: gadget\n    Columns:\n      - {Name: label, ColumnType: label, DataType: varchar(50)}\n";
    const up = await api(s, "POST", "/action/world/upload_system_schema", { attributes: { schema_file: file("schema_gadget.yaml", yaml) } });
    expect(up.status).toBe(200);
    expect(up.body[0].Attributes.message).toMatch(/changes? applied/);
    const created = await api(s, "POST", "/api/gadget", { data: { type: "gadget", attributes: { label: "sprocket" } } });
    expect(created.status).toBe(201);
    const down = await api(s, "POST", "/action/world/download_system_schema", {});
    const doc = JSON.parse(Buffer.from(down.body[0].Attributes.content, "base64").toString());
    expect(doc.Tables.map((t: any) => t.TableName)).toContain("gadget");
    expect(doc.Actions.map((a: any) => a.Name)).toContain("open_ticket");
    const bad = await api(s, "POST", "/action/world/upload_system_schema", { attributes: { schema_file: file("schema_bad.yaml", "Tables:\n  - TableName: x\n") } });
    expect(bad.status).toBe(422);
    expect(bad.body[0].Attributes.message).toContain("schema_bad.yaml:2");
  });

  test("restart_daptin really reloads the start-up schema files", async () => {
    const r = await api(s, "POST", "/action/world/restart_daptin", {});
    expect(r.status).toBe(200);
    expect((await run("open_ticket", { title: "after reload" })).status).toBe(200);
  });

  test("an action created through /api/action runs on the next call; get_action_schema downloads it", async () => {
    const world = await api(s, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: "ticket" }]))}`);
    const def = {
      Name: "hello", Label: "Say hello", OnType: "ticket", InstanceOptional: true,
      InFields: [{ Name: "who", ColumnType: "label" }],
      OutFields: [{ Type: "client.notify", Method: "ACTIONRESPONSE", Attributes: { message: "Hello $who" } }],
    };
    expect((await run("hello", { who: "world" })).status).toBe(404); // remembered as missing until actions change
    const created = await api(s, "POST", "/api/action", {
      data: { type: "action", attributes: { action_name: "hello", label: "Say hello", world_id: world.body.data[0].id, action_schema: JSON.stringify(def) } },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.attributes).not.toHaveProperty("action_schema");
    const hello = await run("hello", { who: "world" });
    expect(hello.body).toEqual([{ ResponseType: "client.notify", Attributes: { __type: "client.notify", message: "Hello world" } }]);
    // An edit applies at the next call.
    const edited = { ...def, OutFields: [{ ...def.OutFields[0]!, Attributes: { message: "Goodbye $who" } }] };
    const patch = await api(s, "PATCH", `/api/action/${created.body.data.id}`, { data: { type: "action", attributes: { action_schema: JSON.stringify(edited) } } });
    expect(patch.status).toBe(200);
    expect((await run("hello", { who: "world" })).body[0].Attributes.message).toBe("Goodbye world");
    const dl = await api(s, "POST", "/action/action/get_action_schema", { attributes: { action_id: created.body.data.id } });
    expect(dl.status).toBe(200);
    expect(dl.body[0].Attributes.name).toBe("hello.action.json");
    expect(JSON.parse(Buffer.from(dl.body[0].Attributes.content, "base64").toString()).OutFields[0].Attributes.message).toBe("Goodbye $who");
    const broken = await api(s, "POST", "/api/action", {
      data: { type: "action", attributes: { action_name: "broken", label: "x", world_id: world.body.data[0].id, action_schema: "{\"Name\": \"broken\"}" } },
    });
    expect(broken.status).toBe(422);
  });
});

describe("schema-changing actions", () => {
  const file = (name: string, text: string) => [{ name, file: Buffer.from(text).toString("base64") }];
  const worldId = async (table: string) =>
    (await api(s, "GET", `/api/world?query=${encodeURIComponent(JSON.stringify([{ column: "table_name", operator: "is", value: table }]))}`)).body.data[0]?.id;

  test("rename_column and remove_column change the table, its indexes and its stored definition", async () => {
    const yaml = [
      "Tables:",
      "  - TableName: widget",
      "    Columns:",
      "      - {Name: code, ColumnType: label, DataType: varchar(20), IsIndexed: true, IsNullable: true}",
      "      - {Name: colour, ColumnType: label, DataType: varchar(20), IsNullable: true}",
      "  - TableName: part",
      "    Columns: [{Name: label, ColumnType: label, DataType: varchar(20)}]",
      "Relations:",
      "  - {Subject: part, Relation: belongs_to, Object: widget}",
      "",
    ].join("\n");
    expect((await api(s, "POST", "/action/world/upload_system_schema", { attributes: { schema_file: file("w.yaml", yaml) } })).status).toBe(200);
    const w = (await api(s, "POST", "/api/widget", { data: { type: "widget", attributes: { code: "W1", colour: "red" } } })).body.data.id;
    const renamed = await api(s, "POST", "/action/world/rename_column", { attributes: { table_name: "widget", column_name: "colour", new_column_name: "color" } });
    expect(renamed.status).toBe(200);
    expect((await api(s, "GET", `/api/widget/${w}`)).body.data.attributes).toMatchObject({ color: "red", code: "W1" });
    const removed = await api(s, "POST", "/action/world/remove_column", { attributes: { world_id: await worldId("widget"), column_name: "code" } });
    expect(removed.status).toBe(200);
    const after = (await api(s, "GET", `/api/widget/${w}`)).body.data.attributes;
    expect(after).not.toHaveProperty("code");
    expect(after.color).toBe("red");
    const doc = await api(s, "POST", "/action/world/download_system_schema", {});
    const widget = JSON.parse(Buffer.from(doc.body[0].Attributes.content, "base64").toString()).Tables.find((t: any) => t.TableName === "widget");
    expect(widget.Columns.map((c: any) => c.ColumnName)).not.toContain("code");
    expect((await api(s, "POST", "/action/world/remove_column", { attributes: { world_id: await worldId("widget"), column_name: "reference_id" } })).status).toBe(422);
    expect((await api(s, "POST", "/action/world/rename_column", { attributes: { table_name: "widget", column_name: "color", new_column_name: "bad name!" } })).status).toBe(422);
  });

  test("remove_table is refused while another table points at it, then drops the table and its sharing rows", async () => {
    const blocked = await api(s, "POST", "/action/world/remove_table", { attributes: { world_id: await worldId("widget") } });
    expect(blocked.status).toBe(409);
    expect(blocked.body[0].Attributes.message).toContain("part.widget_id");
    expect((await api(s, "POST", "/action/world/remove_table", { attributes: { world_id: await worldId("part") } })).status).toBe(200);
    const done = await api(s, "POST", "/action/world/remove_table", { attributes: { world_id: await worldId("widget") } });
    expect(done.status).toBe(200);
    expect((await api(s, "GET", "/api/widget")).status).toBe(404);
    expect(await worldId("widget")).toBeUndefined();
    expect(await worldId("widget_widget_id_has_usergroup_usergroup_id")).toBeUndefined();
  });
});

describe("exports", () => {
  test("export_data is for administrators; the CLI (the system) gets JSON and CSV downloads", async () => {
    expect((await api(s, "POST", "/action/world/export_data", { attributes: { table_name: "ticket" } })).status).toBe(403);
    const csv = await runCli(["action", "run", "world", "export_csv_data", "--attr", "table_name=ticket", "--db", s.db, "--json"]);
    expect(csv.code).toBe(0);
    const file = JSON.parse(csv.stdout)[0].Attributes;
    expect(file.name).toBe("daptin_dump_ticket.csv");
    const text = Buffer.from(file.content, "base64").toString();
    const [header, ...lines] = text.trim().split("\r\n");
    expect(header!.split(",")).toContain("title");
    expect(lines.some((l) => l.includes("printer on fire"))).toBe(true);
    const json = await runCli(["action", "run", "world", "export_data", "--attr", "table_name=ticket", "--attr", "columns=title,status", "--db", s.db, "--json"]);
    const data = JSON.parse(Buffer.from(JSON.parse(json.stdout)[0].Attributes.content, "base64").toString());
    expect(Object.keys(data.ticket[0]).sort()).toEqual(["status", "title"]);
    expect(data.ticket.length).toBe(lines.length);
  });
});

describe("generate_random_data", () => {
  test("fills a table with typed fake rows in one call; bad counts are 422", async () => {
    const before = (await api(s, "GET", "/api/ticket?page[size]=1")).body.links.total;
    const r = await api(s, "POST", "/action/world/generate_random_data", { attributes: { table_name: "ticket", count: 25 } });
    expect(r.status).toBe(200);
    expect(r.body[0].Attributes.message).toBe("Generated 25 rows in ticket");
    const after = await api(s, "GET", "/api/ticket?page[size]=100&sort=-created_at");
    expect(after.body.links.total).toBe(before + 25);
    const row = after.body.data[0].attributes;
    expect(typeof row.title).toBe("string");
    expect(typeof row.priority).toBe("number");
    for (const count of [0, -1, "many", 1_000_000]) {
      expect((await api(s, "POST", "/action/world/generate_random_data", { attributes: { table_name: "ticket", count } })).status).toBe(422);
    }
  });

  test("at most 10,000 rows and 50,000 values a call (one transaction the server waits for): past it a 422 naming the limit", async () => {
    const generate = (table_name: string, count: number) => api(s, "POST", "/action/world/generate_random_data", { attributes: { table_name, count } });
    // Before: up to 100,000 rows in one transaction, which held the server for 1.9 s.
    const many = await generate("ticket", 10_001);
    expect(many.status).toBe(422);
    expect(many.body[0].Attributes.message).toBe("count must be a whole number from 1 to 10000");
    const columns = Array.from({ length: 10 }, (_, i) => `      - {Name: c${i}, ColumnType: label, DataType: varchar(40), IsNullable: true}`);
    const yaml = ["Tables:", "  - TableName: wide", "    Columns:", ...columns, ""].join("\n");
    const file = [{ name: "schema_wide.yaml", file: Buffer.from(yaml).toString("base64") }];
    expect((await api(s, "POST", "/action/world/upload_system_schema", { attributes: { schema_file: file } })).status).toBe(200);
    const wide = await generate("wide", 5001);
    expect(wide.status).toBe(422);
    expect(wide.body[0].Attributes.message).toBe("count must be a whole number from 1 to 5000 (wide has 10 columns to fill; at most 50000 values per call)");
    const { result: ok, worst } = await pingWhile(s, () => generate("wide", 5000));
    expect(ok.body[0].Attributes.message).toBe("Generated 5000 rows in wide");
    expect(worst).toBeLessThan(1000);
  }, 30_000);
});

describe("import_data", () => {
  const file = (name: string, text: string) => [{ name, file: Buffer.from(text).toString("base64") }];
  const total = async () => (await api(s, "GET", "/api/ticket?page[size]=1")).body.links.total as number;

  test("CSV and JSON rows go through the normal write path, all or nothing", async () => {
    const start = await total();
    const csv = "title,priority,status\nImported one,3,open\n\"Comma, inside\",4,closed\n";
    const r = await api(s, "POST", "/action/world/import_data", { attributes: { table_name: "ticket", dump_file: file("t.csv", csv) } });
    expect(r.status).toBe(200);
    expect(r.body[0].Attributes.rows_imported).toBe(2);
    expect(await total()).toBe(start + 2);
    const found = await api(s, "GET", `/api/ticket?query=${encodeURIComponent(JSON.stringify([{ column: "title", operator: "is", value: "Comma, inside" }]))}`);
    expect(found.body.data[0].attributes).toMatchObject({ priority: 4, status: "closed" });
    const json = JSON.stringify({ ticket: [{ title: "From JSON", priority: 1, reference_id: "ignored", created_at: "2000-01-01" }] });
    expect((await api(s, "POST", "/action/world/import_data", { attributes: { table_name: "ticket", dump_file: file("t.json", json) } })).status).toBe(200);
    expect(await total()).toBe(start + 3);
    const bad = "title,priority\ngood row,1\nbad row,lots\n";
    const failed = await api(s, "POST", "/action/world/import_data", { attributes: { table_name: "ticket", dump_file: file("bad.csv", bad) } });
    expect(failed.status).toBe(422);
    expect(failed.body[0].Attributes.message).toContain("bad.csv row 2");
    expect(await total()).toBe(start + 3);
  });
});

describe("tables from spreadsheets", () => {
  const file = (name: string, bytes: Buffer | string) => [{ name, file: Buffer.from(bytes).toString("base64") }];

  test("upload_csv_to_system_schema creates a typed table and imports the rows; add_missing_columns extends it", async () => {
    const csv = "Name,Unit Price,In Stock,Added\napple,1.5,true,2024-01-02\npear,2,false,2024-02-03\n";
    const refused = await api(s, "POST", "/action/world/upload_csv_to_system_schema", { attributes: { entity_name: "fruit", data_csv_file: file("f.csv", csv) } });
    expect(refused.status).toBe(422);
    const r = await api(s, "POST", "/action/world/upload_csv_to_system_schema", { attributes: { entity_name: "fruit", create_if_not_exists: true, data_csv_file: file("f.csv", csv) } });
    expect(r.status).toBe(200);
    expect(r.body[0].Attributes.rows_imported).toBe(2);
    const rows = (await api(s, "GET", "/api/fruit?sort=name")).body.data.map((d: any) => d.attributes);
    expect(rows[0]).toMatchObject({ name: "apple", unit_price: 1.5, in_stock: true, added: "2024-01-02T00:00:00.000Z" });
    const more = "name,colour\ncherry,red\n";
    expect((await api(s, "POST", "/action/world/upload_csv_to_system_schema", { attributes: { entity_name: "fruit", data_csv_file: file("g.csv", more) } })).status).toBe(422);
    const grown = await api(s, "POST", "/action/world/upload_csv_to_system_schema", { attributes: { entity_name: "fruit", add_missing_columns: true, data_csv_file: file("g.csv", more) } });
    expect(grown.status).toBe(200);
    const cherry = (await api(s, "GET", "/api/fruit?filter=cherry")).body.data[0].attributes;
    expect(cherry.colour).toBe("red");
  });

  test("upload_xls_to_system_schema and import_data read XLSX workbooks", async () => {
    const ExcelJS = (await import("exceljs")).default;
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet("tools");
    ws.addRow(["label", "weight"]);
    ws.addRow(["hammer", 2]);
    ws.addRow(["saw", 1]);
    const xlsx = Buffer.from(await wb.xlsx.writeBuffer());
    const r = await api(s, "POST", "/action/world/upload_xls_to_system_schema", { attributes: { entity_name: "tool", create_if_not_exists: true, data_xls_file: file("t.xlsx", xlsx) } });
    expect(r.status).toBe(200);
    expect((await api(s, "GET", "/api/tool?sort=label")).body.data.map((d: any) => [d.attributes.label, d.attributes.weight])).toEqual([["hammer", 2], ["saw", 1]]);
    const again = await api(s, "POST", "/action/world/import_data", { attributes: { table_name: "tool", dump_file: file("t.xlsx", xlsx) } });
    expect(again.body[0].Attributes.rows_imported).toBe(2);
    expect((await api(s, "POST", "/action/world/import_data", { attributes: { table_name: "tool", dump_file: file("t.xlsx", "not a workbook") } })).status).toBe(422);
  });
});
