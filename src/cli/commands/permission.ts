// `daptin permission explain`: who may do what on a table (or a row), and which rule decided.
import type { Command } from "commander";
import { GUEST, SYSTEM } from "../../engine/identity/identity.ts";
import { describePermission, OPERATIONS, parsePermission, PermissionSyntaxError } from "../../engine/permission/bits.ts";
import { addDbOptions, type DbOptions, identityOf, OPEN, withEngine } from "../options.ts";
import { chalk, printJson, UsageError } from "../output.ts";

interface ExplainOptions extends DbOptions {
  table: string;
  row?: string;
  as?: string;
  json?: boolean;
}

interface SetOptions extends DbOptions {
  table: string;
  row?: string;
  action?: string;
  json?: boolean;
}

export function registerPermission(program: Command): void {
  const permission = program.command("permission").description("understand and change permissions");
  addDbOptions(
    permission
      .command("set")
      .description('set the permission of a table, a row or an action, e.g. `permission set --table user_account --action signup "guest:execute owner:all group:all"`')
      .argument("<permission>", 'an integer, or scopes and operations: "guest:peek,execute owner:all group:read"')
      .requiredOption("--table <table>", "table name (alone: the table's own permission)")
      .option("--row <id>", "a row's reference id")
      .option("--action <name>", "an action on the table")
      .option("--json", "print the new permission as JSON"),
  ).action(async (text: string, opts: SetOptions) => {
    if (opts.row !== undefined && opts.action !== undefined) throw new UsageError("give --row or --action, not both");
    let value: number;
    try {
      value = parsePermission(text);
    } catch (e) {
      if (e instanceof PermissionSyntaxError) throw new UsageError(`permission: ${e.message}`);
      throw e;
    }
    await withEngine(opts, OPEN.write, async (engine) => {
      const target = engine.permissionTarget(opts.table, { row: opts.row, action: opts.action });
      await engine.data.update(SYSTEM, target.table, target.id, { attributes: { permission: value } });
      if (opts.json) printJson({ ...target, permission: value, symbolic: describePermission(value) });
      else process.stdout.write(`${target.table} ${target.id}: permission ${value} = ${JSON.stringify(describePermission(value))}\n`);
    });
  });
  addDbOptions(
    permission
      .command("explain")
      .description("print, for each operation, whether a user (or a guest) may do it on a table or row, and why")
      .requiredOption("--table <table>", "table name")
      .option("--row <id>", "a row's reference id (default: the table itself)")
      .option("--as <email>", "the user to check (default: a guest)")
      .option("--json", "print the verdicts as JSON"),
  ).action((opts: ExplainOptions) =>
    withEngine(opts, OPEN.read, (engine) => {
      const who = identityOf(engine, opts.as, GUEST);
      const report = engine.explain(who, opts.table, opts.row);
      if (opts.json) {
        printJson(report);
        return;
      }
      const subject = opts.row ? `${opts.table} ${opts.row}` : `table ${opts.table}`;
      process.stdout.write(`${subject}: permission ${report.permission} = ${JSON.stringify(describePermission(report.permission))}\n`);
      process.stdout.write(`as ${who.email ?? "a guest"}${who.isAdmin ? " (administrator)" : ""}:\n`);
      for (const op of OPERATIONS) {
        const v = report.verdicts[op];
        process.stdout.write(`  ${v.allowed ? chalk.green("allow") : chalk.red("deny ")} ${op.padEnd(8)} ${v.reason}\n`);
      }
    }),
  );
}
