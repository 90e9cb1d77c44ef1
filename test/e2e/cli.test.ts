// The `daptin` command as a subprocess: schema apply plans, refusals, exit codes, serve flags and signals.
import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { api, daptinCommand, FIXTURES, freePort, runCli, startServer, tempDir } from "../helpers/daptin.ts";

const productSchema = join(FIXTURES, "schema_product.yaml");

describe("help and exit codes", () => {
  test("--help on every command exits 0", async () => {
    for (const args of [["--help"], ["serve", "--help"], ["schema", "--help"], ["schema", "apply", "--help"], ["status", "--help"], ["group", "add-user", "--help"], ["user", "set-password", "--help"]]) {
      const r = await runCli(args);
      expect(`${args.join(" ")} ${r.code}`).toBe(`${args.join(" ")} 0`);
      expect(r.stdout).toContain("Usage: daptin");
    }
  });
  test("unknown command or option is a usage error (2)", async () => {
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: unknown command 'frobnicate'");
    expect(unknown.stderr).not.toContain("serve");
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
    const port = await freePort();
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

/** runCli with text on standard input. */
async function runWithInput(args: string[], input: string, env: Record<string, string> = {}) {
  const proc = Bun.spawn([...daptinCommand(), ...args], { cwd: tempDir(), env: { ...process.env, NO_COLOR: "1", ...env }, stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(input);
  await proc.stdin.end();
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A database with the product schema, a user, an administrator (ops) and nothing else. */
async function provisioned(): Promise<{ dir: string; db: string }> {
  const dir = tempDir();
  const db = join(dir, "p.db");
  expect((await runCli(["schema", "apply", productSchema, "--db", db])).code).toBe(0);
  expect((await runCli(["user", "signup", "--email", "ops@example.com", "--password", "correct horse", "--db", db])).code).toBe(0);
  expect((await runCli(["become-admin", "--email", "ops@example.com", "--db", db])).code).toBe(0);
  return { dir, db };
}

describe("serve is the default command", () => {
  test("`daptin -port P` and bare `daptin` serve", async () => {
    for (const args of [(port: number) => ["-port", String(port), "-db_connection_string", "x.db"], () => []]) {
      const dir = tempDir();
      const port = await freePort();
      const proc = Bun.spawn([...daptinCommand(), ...args(port)], { cwd: dir, env: { ...process.env, DAPTIN_PORT: String(port), NO_COLOR: "1" }, stderr: "pipe", stdout: "pipe" });
      let up = false;
      for (let i = 0; i < 200 && !up; i++) {
        await Bun.sleep(50);
        up = await fetch(`http://127.0.0.1:${port}/ping`).then((r) => r.ok, () => false);
      }
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(0);
      expect(up).toBe(true);
      expect(existsSync(join(dir, args(port).length ? "x.db" : "daptin.db"))).toBe(true);
    }
  }, 30000);
});

describe("--json errors and the already-done exit code", () => {
  test("usage and engine errors are one JSON document on standard output, nothing on standard error", async () => {
    const usage = await runCli(["frobnicate", "--json"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe("");
    expect(JSON.parse(usage.stdout)).toEqual({ error: { kind: "usage", title: "Usage error", detail: "unknown command 'frobnicate'" } });
    const missing = await runCli(["user", "signup", "--json"]);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout).error.detail).toContain("--email");
    const { db } = await provisioned();
    const unknown = await runCli(["become-admin", "--email", "nobody@example.com", "--db", db, "--json"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("");
    expect(JSON.parse(unknown.stdout)).toEqual({ error: { kind: "not_found", title: "Unknown user", detail: "there is no user with email nobody@example.com" } });
    const short = await runCli(["user", "signup", "--email", "x@example.com", "--password", "short", "--db", db, "--json"]);
    expect(short.code).toBe(2);
    expect(JSON.parse(short.stdout).error).toMatchObject({ kind: "validation", detail: "password: must be at least 8 characters" });
  }, 30000);

  test("what exists already is exit 3 (kind already_done), and exit 0 with --if-missing", async () => {
    const { db } = await provisioned();
    const again = [
      ["user", "signup", "--email", "OPS@example.com", "--password", "correct horse"],
      ["become-admin", "--email", "ops@example.com"],
    ];
    for (const args of again) {
      const text = await runCli([...args, "--db", db]);
      expect(`${args[0]} ${text.code}`).toBe(`${args[0]} 3`);
      expect(text.stderr).toMatch(/^error: .* already\n$/);
      const json = await runCli([...args, "--db", db, "--json"]);
      expect(json.code).toBe(3);
      expect(JSON.parse(json.stdout).error.kind).toBe("already_done");
      const ok = await runCli([...args, "--db", db, "--json", "--if-missing"]);
      expect(`${args[0]} ${ok.code} ${ok.stderr}`).toBe(`${args[0]} 0 `);
    }
    const signup = await runCli([...again[0]!, "--db", db, "--json", "--if-missing"]);
    expect(JSON.parse(signup.stdout)).toMatchObject({ email: "ops@example.com", created: false });
    // Another user after the lock-down is refused, not "already done".
    expect((await runCli(["user", "signup", "--email", "eve@example.com", "--password", "correct horse", "--db", db])).code).toBe(0);
    expect((await runCli(["become-admin", "--email", "eve@example.com", "--db", db, "--if-missing"])).code).toBe(1);
  }, 30000);
});

describe("passwords", () => {
  test("from --password-file, --password-stdin or DAPTIN_PASSWORD; exactly one source", async () => {
    const dir = tempDir();
    const db = join(dir, "p.db");
    const file = join(dir, "pw");
    writeFileSync(file, "file horse\n");
    expect((await runCli(["user", "signup", "--email", "f@example.com", "--password-file", file, "--db", db])).code).toBe(0);
    expect((await runWithInput(["user", "signup", "--email", "s@example.com", "--password-stdin", "--db", db], "stdin horse\n")).code).toBe(0);
    expect((await runCli(["user", "signup", "--email", "e@example.com", "--db", db], { env: { DAPTIN_PASSWORD: "env horse" } })).code).toBe(0);
    const signin = (email: string, password: string) => runCli(["user", "signin", "--email", email, "--db", db], { env: { DAPTIN_PASSWORD: password } });
    // The trailing newline of the file and of stdin is not part of the password.
    for (const [email, password] of [["f@example.com", "file horse"], ["s@example.com", "stdin horse"], ["e@example.com", "env horse"]]) {
      const r = await signin(email!, password!);
      expect(`${email} ${r.code} ${r.stderr}`).toBe(`${email} 0 `);
      expect(r.stdout.split(".")).toHaveLength(3);
    }
    expect((await signin("f@example.com", "file horse\n")).code).toBe(1);
    const two = await runCli(["user", "signin", "--email", "f@example.com", "--password", "x", "--password-file", file, "--db", db]);
    expect(two.code).toBe(2);
    expect(two.stderr).toContain("give one of --password, --password-file, not several");
    const none = await runCli(["user", "signin", "--email", "f@example.com", "--db", db], { env: { DAPTIN_PASSWORD: "" } });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("DAPTIN_PASSWORD");
  }, 30000);
});

describe("databases and files that are not there", () => {
  test("a command that reads or changes a database needs one: `no database at PATH`, and nothing is created", async () => {
    const dir = tempDir();
    const db = join(dir, "typo.db");
    const commands = [
      ["user", "signin", "--email", "a@example.com", "--password", "correct horse"],
      ["become-admin", "--email", "a@example.com"],
      ["apispec"],
      ["export", "user_account"],
      ["permission", "explain", "--table", "world"],
      ["permission", "set", "--table", "world", "561441"],
      ["status"],
      ["user", "list"],
      ["user", "set-password", "--email", "a@example.com", "--password", "correct horse"],
      ["group", "list"],
      ["group", "create", "ops"],
      ["import", "category", join(FIXTURES, "categories.json")],
      ["action", "run", "world", "export_data"],
    ];
    for (const args of commands) {
      const r = await runCli([...args, "--db", db]);
      expect(`${args.join(" ")}: ${r.code} ${r.stderr.split("\n")[0]}`).toStartWith(`${args.join(" ")}: 1 error: No database: no database at ${db}`);
    }
    expect(readdirSync(dir)).toEqual([]);
    // A file that is not a daptin database is not made into one either.
    const empty = join(dir, "empty.db");
    writeFileSync(empty, "");
    const r = await runCli(["status", "--db", empty]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${empty} is not a daptin database`);
    expect(readFileSync(empty).length).toBe(0);
  }, 60000);

  test("file errors name the path and say what is wrong", async () => {
    const dir = tempDir();
    const cases: [string[], number, string][] = [
      [["status", "--db", dir], 1, `Cannot open database: ${dir}: is a directory`],
      [["schema", "apply", productSchema, "--db", join(dir, "no/such/x.db")], 1, `Cannot open database: ${join(dir, "no/such/x.db")}: no such directory ${join(dir, "no/such")}`],
      [["schema", "apply", dir, "--db", join(dir, "x.db")], 2, `${dir}: is a directory`],
      [["import", "category", dir, "--db", join(dir, "x.db")], 2, `${dir}: is a directory`],
      [["user", "signup", "--email", "a@example.com", "--password-file", join(dir, "nope")], 2, `--password-file ${join(dir, "nope")}: no such file`],
      [["serve", "--port", "0", "--schema-dir", join(dir, "nope"), "--db", join(dir, "s.db")], 2, `--schema-dir ${join(dir, "nope")}: no such directory`],
      [["serve", "--port", "0", "--host", "256.1.1.1", "--db", join(dir, "s.db")], 2, `--host must be an IP address or a host name, got "256.1.1.1"`],
      [["serve", "--port", "0", "--host", "no-such-host.invalid", "--db", join(dir, "s.db")], 2, "--host no-such-host.invalid: no such host"],
    ];
    writeFileSync(join(dir, "text.db"), "not sqlite\n");
    cases.push([["status", "--db", join(dir, "text.db")], 1, `Cannot open database: ${join(dir, "text.db")}: not a SQLite database`]);
    for (const [args, code, message] of cases) {
      const r = await runCli(args, { cwd: dir });
      expect(`${args[0]} ${r.code} ${r.stderr}`).toBe(`${args[0]} ${code} error: ${message}\n`);
    }
    // serve refused its flags before it created anything.
    expect(existsSync(join(dir, "s.db"))).toBe(false);
  }, 30000);
});

describe("the write lock", () => {
  test("read-only commands answer while another process holds the write lock; a write names what waited and how long", async () => {
    const { db } = await provisioned();
    const holder = new Database(db);
    holder.exec("BEGIN IMMEDIATE");
    holder.exec("INSERT INTO category (name, reference_id, permission, version, created_at, updated_at) VALUES ('held', randomblob(16), 0, 1, '', '')");
    try {
      // The lock is held throughout: a command that waited for it would fail after the timeout. (Before the fix
      // every command took the write lock at open.)
      const env = { DAPTIN_LOCK_TIMEOUT_MS: "1500" };
      for (const args of [["status", "--json"], ["user", "list"], ["group", "list"], ["apispec"], ["export", "category"], ["permission", "explain", "--table", "product"]]) {
        const r = await runCli([...args, "--db", db], { env });
        expect(`${args.join(" ")} ${r.code} ${r.stderr}`).toBe(`${args.join(" ")} 0 `);
        // The uncommitted row is not seen.
        if (args[0] === "export") expect(r.stdout).not.toContain("held");
      }
      // The wait is at least the timeout (a little more on a busy machine).
      const waited = (text: string, command: string) => {
        const m = new RegExp(`${command} waited (\\d+\\.\\d) s for the write lock`).exec(text);
        expect(m).not.toBeNull();
        return Number(m![1]);
      };
      const write = await runCli(["group", "create", "ops", "--db", db], { env });
      expect(write.code).toBe(1);
      expect(write.stderr).toMatch(/^error: database is locked: group create waited \d+\.\d s for the write lock\n$/);
      expect(waited(write.stderr, "group create")).toBeGreaterThanOrEqual(1.5);
      const json = await runCli(["user", "signup", "--email", "x@example.com", "--password", "correct horse", "--db", db, "--json"], { env });
      expect(json.code).toBe(1);
      const error = JSON.parse(json.stdout).error;
      expect(error).toMatchObject({ kind: "locked", title: "Database is locked", code: "database_locked" });
      expect(waited(error.detail, "user signup")).toBeGreaterThanOrEqual(1.5);
    } finally {
      holder.exec("ROLLBACK");
      holder.close();
    }
    expect((await runCli(["group", "create", "ops", "--db", db])).code).toBe(0);
  }, 60000);
});

test("a server write that waits in vain for the write lock is a 503 with Retry-After, not a 500", async () => {
  const s = await startServer({ schemas: ["schema_product.yaml"], env: { DAPTIN_LOCK_TIMEOUT_MS: "300" } });
  const holder = new Database(s.db);
  try {
    holder.exec("BEGIN IMMEDIATE");
    const r = await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: "waits" } } });
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(r.body.errors[0]).toMatchObject({ title: "Database is locked", code: "database_locked" });
    holder.exec("ROLLBACK");
    expect((await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: "waits" } } })).status).toBe(201);
  } finally {
    holder.close();
    await s.stop();
  }
}, 30000);

describe("user list, user set-password, group create|add-user|list, status", () => {
  test("accounts, groups and memberships as a provisioning script needs them", async () => {
    // Before the lock-down, the first administrator comes only from become-admin (which locks the instance down).
    const fresh = join(tempDir(), "f.db");
    expect((await runCli(["user", "signup", "--email", "ann@example.com", "--password", "correct horse", "--db", fresh])).code).toBe(0);
    const early = await runCli(["group", "add-user", "administrators", "ann@example.com", "--db", fresh]);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("the first administrator is made by become_an_administrator");
    expect(JSON.parse((await runCli(["status", "--db", fresh, "--json"])).stdout).lockedDown).toBe(false);

    const { db } = await provisioned();
    expect((await runCli(["user", "signup", "--email", "bob@example.com", "--name", "Bob", "--password", "correct horse", "--db", db])).code).toBe(0);
    const created = await runCli(["group", "create", "support", "--db", db, "--json"]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: "support", created: true });
    expect((await runCli(["group", "create", "support", "--db", db])).code).toBe(3);
    const added = await runCli(["group", "add-user", "support", "bob@example.com", "--db", db, "--json"]);
    expect(JSON.parse(added.stdout)).toEqual({ group: "support", email: "bob@example.com", added: true });
    expect((await runCli(["group", "add-user", "support", "bob@example.com", "--db", db])).code).toBe(3);
    expect((await runCli(["group", "add-user", "nope", "bob@example.com", "--db", db])).stderr).toContain('there is no group named "nope"');
    const groups = JSON.parse((await runCli(["group", "list", "--db", db, "--json"])).stdout);
    expect(groups.find((g: { name: string }) => g.name === "support")).toMatchObject({ members: ["bob@example.com"] });
    expect(groups.find((g: { name: string }) => g.name === "administrators").members).toEqual(["ops@example.com"]);
    const users = JSON.parse((await runCli(["user", "list", "--db", db, "--json"])).stdout);
    expect(users.find((u: { email: string }) => u.email === "bob@example.com")).toMatchObject({ name: "Bob", groups: ["support", "users"], administrator: false });
    expect(users.find((u: { email: string }) => u.email === "ops@example.com").administrator).toBe(true);
    expect(JSON.stringify(users)).not.toContain("$2");
    const text = await runCli(["user", "list", "--db", db]);
    expect(text.stdout).toMatch(/bob@example\.com +Bob +\[support, users\]/);

    // A new password: the old one and the tokens issued with it stop working; the same password again changes nothing.
    const token = (await runCli(["user", "signin", "--email", "bob@example.com", "--password", "correct horse", "--db", db])).stdout.trim();
    const set = await runCli(["user", "set-password", "--email", "bob@example.com", "--password", "battery staple", "--db", db, "--json"]);
    expect(JSON.parse(set.stdout)).toEqual({ email: "bob@example.com", changed: true });
    const same = await runCli(["user", "set-password", "--email", "bob@example.com", "--password", "battery staple", "--db", db, "--json"]);
    expect(JSON.parse(same.stdout)).toEqual({ email: "bob@example.com", changed: false });
    expect((await runCli(["user", "signin", "--email", "bob@example.com", "--password", "correct horse", "--db", db])).code).toBe(1);
    expect((await runCli(["user", "signin", "--email", "bob@example.com", "--password", "battery staple", "--db", db])).code).toBe(0);
    expect((await runCli(["user", "set-password", "--email", "bob@example.com", "--password", "short", "--db", db])).code).toBe(2);
    const s = await startServer({ args: ["--db", db] });
    expect((await api(s, "GET", "/api/user_account", undefined, { Authorization: `Bearer ${token}` })).status).toBe(401);
    await s.stop();
  }, 60000);

  test("status says whether the instance is locked down, who administers it, and the rows of each table", async () => {
    const dir = tempDir();
    const db = join(dir, "s.db");
    expect((await runCli(["schema", "apply", productSchema, "--db", db])).code).toBe(0);
    const open = JSON.parse((await runCli(["status", "--db", db, "--json"])).stdout);
    expect(open).toMatchObject({ database: db, lockedDown: false, administrators: [], users: 1, groups: ["administrators", "guests", "users"] });
    expect(open.schemaHash).toMatch(/^[0-9a-f]{40}$/);
    expect(open.tables[0]).toEqual({ name: "category", rows: 0, builtIn: false });
    expect((await runCli(["import", "category", join(FIXTURES, "categories.json"), "--db", db])).code).toBe(0);
    expect((await runCli(["user", "signup", "--email", "ops@example.com", "--password", "correct horse", "--db", db])).code).toBe(0);
    expect((await runCli(["become-admin", "--email", "ops@example.com", "--db", db])).code).toBe(0);
    const locked = JSON.parse((await runCli(["status", "--db", db, "--json"])).stdout);
    expect(locked).toMatchObject({ lockedDown: true, administrators: ["ops@example.com"], users: 2 });
    expect(locked.tables.find((t: { name: string }) => t.name === "category").rows).toBe(2);
    expect(locked.tables.find((t: { name: string }) => t.name === "user_account")).toEqual({ name: "user_account", rows: 2, builtIn: true });
    expect(JSON.stringify(locked)).not.toMatch(/secret|password/i);
    const text = (await runCli(["status", "--db", db])).stdout;
    expect(text).toContain("locked down:     yes");
    expect(text).toContain("administrators:  ops@example.com");
    expect(text).toMatch(/\n {2}category +2\n/);
    // --if-empty: a table with rows is left alone (exit 0).
    const seed = await runCli(["import", "category", join(FIXTURES, "categories.json"), "--if-empty", "--db", db]);
    expect(`${seed.code} ${seed.stdout}`).toBe("0 category has 2 rows already; nothing imported\n");
  }, 60000);
});
