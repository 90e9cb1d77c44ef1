// The `daptin` command: commander program, one file per subcommand, all over one engine.
import { Command, CommanderError } from "commander";
import { registerAction } from "./commands/action.ts";
import { registerGroup } from "./commands/group.ts";
import { registerTransfer } from "./commands/transfer.ts";
import { registerApiSpec } from "./commands/apispec.ts";
import { registerPermission } from "./commands/permission.ts";
import { registerSchema } from "./commands/schema.ts";
import { registerServe } from "./commands/serve.ts";
import { registerStatus } from "./commands/status.ts";
import { registerUser } from "./commands/user.ts";
import { normaliseArgv } from "./options.ts";
import { configureColour, EXIT_OK, EXIT_USAGE, reportError, UsageError } from "./output.ts";
import pkg from "../../package.json" with { type: "json" };

export function buildProgram(): Command {
  const program = new Command("daptin")
    .description("Backend-as-a-service: schema files in, a permission-aware JSON:API over SQLite out")
    .version(pkg.version, "-v, --version")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerServe(program);
  registerSchema(program);
  registerUser(program);
  registerGroup(program);
  registerPermission(program);
  registerStatus(program);
  registerApiSpec(program);
  registerAction(program);
  registerTransfer(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

/**
 * Daptin's binary has no subcommands: `daptin` and `daptin -port 8080` serve. So an argument list that is empty or
 * starts with an option (other than help and version) is `serve`'s; a first word that names no command stays
 * where it is, so commander says `unknown command 'frobnicate'`.
 */
export function withDefaultCommand(argv: string[]): string[] {
  const first = argv[2];
  const own = new Set(["-h", "--help", "-v", "--version"]);
  if (first === undefined || (first.startsWith("-") && !own.has(first))) return [...argv.slice(0, 2), "serve", ...argv.slice(2)];
  return argv;
}

/** `user signup` for the command an action belongs to. */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

export async function main(argv: string[]): Promise<void> {
  configureColour();
  // `daptin ... | head` closes the pipe early: that is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(EXIT_OK);
  });
  const args = withDefaultCommand(normaliseArgv(argv));
  // With --json, every error (usage errors too) is one JSON document on standard output, and nothing on stderr.
  const json = args.slice(2).includes("--json");
  let command: string | undefined;
  const program = buildProgram();
  if (json) {
    const quiet = (cmd: Command) => {
      cmd.configureOutput({ writeErr: () => {}, outputError: () => {} });
      for (const sub of cmd.commands) quiet(sub);
    };
    quiet(program);
  }
  program.hook("preAction", (_, action) => {
    command = commandPath(action);
  });
  try {
    await program.parseAsync(args);
    process.exitCode = EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      // `help` with a non-zero code: a command group without its subcommand (`daptin user`), a usage error.
      const ok = e.code === "commander.helpDisplayed" || e.code === "commander.version" || (e.code === "commander.help" && e.exitCode === 0);
      if (ok) {
        process.exitCode = EXIT_OK;
        return;
      }
      // commander has printed the message already, unless --json asked for it as JSON.
      const message = e.code === "commander.help" ? "a subcommand is required (run with --help for the list)" : e.message.replace(/^error: /, "");
      if (json) reportError(new UsageError(message), { json });
      process.exitCode = e.code === "commander.executeSubCommandAsync" ? e.exitCode : EXIT_USAGE;
      return;
    }
    process.exitCode = reportError(e, { json, command });
  }
}
