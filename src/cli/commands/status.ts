// `daptin status`: what an operator checks before and after provisioning (locked down? who administers? which
// tables, how many rows?), read-only so it answers while a server or another command is writing.
import type { Command } from "commander";
import type { Engine } from "../../engine/engine.ts";
import { listAccounts } from "../../engine/identity/accounts.ts";
import { Groups } from "../../engine/identity/groups.ts";
import { systemSchema } from "../../engine/schema/load.ts";
import { addDbOptions, type DbOptions, engineConfig, OPEN, rowCount, withEngine } from "../options.ts";
import { printJson } from "../output.ts";
import pkg from "../../../package.json" with { type: "json" };

interface StatusOptions extends DbOptions {
  json?: boolean;
}

function status(engine: Engine, database: string) {
  const groups = new Groups(engine.db, engine.data);
  const accounts = listAccounts(engine.db, groups);
  const builtIn = new Set(systemSchema().Tables.map((t) => t.TableName));
  const tables = [...engine.registry.tables.values()]
    .filter((t) => !t.isJoin)
    .map((t) => ({ name: t.name, rows: rowCount(engine, t.name), builtIn: builtIn.has(t.name) }))
    .sort((a, b) => Number(a.builtIn) - Number(b.builtIn) || a.name.localeCompare(b.name));
  return {
    database,
    version: pkg.version,
    lockedDown: engine.lockedDown,
    administrators: accounts.filter((a) => a.administrator).map((a) => a.email),
    users: accounts.length,
    groups: groups.list().map((g) => g.name),
    schemaHash: engine.config.get("schema.hash") ?? null,
    tables,
  };
}

export function registerStatus(program: Command): void {
  addDbOptions(
    program
      .command("status")
      .description("print the state of a database: locked down, administrators, users, groups, tables and their rows (read-only)")
      .option("--json", "print the status as JSON"),
  ).action((opts: StatusOptions) => {
    const database = engineConfig(opts).db;
    return withEngine(opts, OPEN.read, (engine) => {
      const s = status(engine, database);
      if (opts.json) {
        printJson(s);
        return;
      }
      const out = (line: string) => process.stdout.write(`${line}\n`);
      out(`database:        ${s.database} (daptin ${s.version})`);
      out(`locked down:     ${s.lockedDown ? "yes" : "no (bootstrap mode: guests may do everything)"}`);
      out(`administrators:  ${s.administrators.join(", ") || "none"}`);
      out(`users:           ${s.users}`);
      out(`groups:          ${s.groups.join(", ")}`);
      const own = s.tables.filter((t) => !t.builtIn);
      const width = Math.max(0, ...s.tables.map((t) => t.name.length));
      const table = (t: { name: string; rows: number }) => out(`  ${t.name.padEnd(width)}  ${t.rows}`);
      out(`tables:          ${own.length} from schema files, ${s.tables.length - own.length} built in (rows)`);
      for (const t of own) table(t);
      for (const t of s.tables.filter((x) => x.builtIn)) table(t);
    });
  });
}
