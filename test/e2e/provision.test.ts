// A provisioning script (bash driving the real binary) run twice against one database: both runs exit 0 and the
// second changes nothing.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { daptinCommand, FIXTURES, runCli, tempDir } from "../helpers/daptin.ts";

async function provision(db: string, work: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(["bash", join(FIXTURES, "provision.sh")], {
    cwd: work,
    env: { ...process.env, NO_COLOR: "1", DAPTIN: daptinCommand().join(" "), DB: db, FIXTURES, WORK: work },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Everything the script sets, as the CLI reports it (rows with their versions and timestamps). */
async function state(db: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const reads = {
    status: ["status", "--json"],
    users: ["user", "list", "--json"],
    groups: ["group", "list", "--json"],
    product: ["permission", "explain", "--table", "product", "--json"],
    ...Object.fromEntries(["user_account", "usergroup", "world", "action", "category", "user_account_user_account_id_has_usergroup_usergroup_id"].map((t) => [t, ["export", t]])),
  };
  for (const [name, args] of Object.entries(reads)) {
    const r = await runCli([...args, "--db", db]);
    expect(`${name} ${r.code} ${r.stderr}`).toBe(`${name} 0 `);
    out[name] = r.stdout;
  }
  return out;
}

test("the provisioning script runs twice with exit 0 and ends in the same state", async () => {
  const work = tempDir();
  const db = join(work, "app.db");
  const first = await provision(db, work);
  expect(`${first.code} ${first.stderr}`).toBe("0 ");
  expect(first.stdout).toContain("Created user ops@example.com");
  expect(first.stdout).toContain("Added bob@example.com to support");
  expect(first.stdout).toContain("2 rows into category");
  const after = await state(db);
  const status = JSON.parse(after.status!);
  expect(status).toMatchObject({ lockedDown: true, administrators: ["ops@example.com"], groups: ["administrators", "guests", "support", "users"] });
  expect(status.tables.find((t: { name: string }) => t.name === "category").rows).toBe(2);
  const bob = JSON.parse(after.users!).find((u: { email: string }) => u.email === "bob@example.com");
  expect(bob.groups).toEqual(["support", "users"]);
  expect(JSON.parse(after.product!).verdicts.peek.allowed).toBe(true);
  // The password set last is the one that works.
  expect((await runCli(["user", "signin", "--email", "bob@example.com", "--password", "a new staple", "--db", db])).code).toBe(0);

  const second = await provision(db, work);
  expect(second.code).toBe(0);
  // The one step run without --if-missing reported "exists already" (exit 3), which the script accepts.
  expect(second.stderr).toBe("error: a user with email carol@example.com exists already\n");
  for (const line of ["User ops@example.com exists already", "ops@example.com is an administrator already", "Group support exists already",
    "bob@example.com is a member of support already", "Password of bob@example.com is that already", "category has 2 rows already"]) {
    expect(second.stdout).toContain(line);
  }
  const again = await state(db);
  for (const name of Object.keys(after)) expect(`${name}: ${again[name]}`).toBe(`${name}: ${after[name]}`);
}, 120_000);
