// The `daptin` command: commander program, one file per subcommand, all over one engine.
import { Command, CommanderError } from "commander";
import { registerAction } from "./commands/action.ts";
import { registerTransfer } from "./commands/transfer.ts";
import { registerApiSpec } from "./commands/apispec.ts";
import { registerPermission } from "./commands/permission.ts";
import { registerSchema } from "./commands/schema.ts";
import { registerServe } from "./commands/serve.ts";
import { registerUser } from "./commands/user.ts";
import { normaliseArgv } from "./options.ts";
import { configureColour, EXIT_OK, EXIT_USAGE, reportError } from "./output.ts";
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
  registerPermission(program);
  registerApiSpec(program);
  registerAction(program);
  registerTransfer(program);
  for (const cmd of program.commands) {
    cmd.exitOverride();
    for (const sub of cmd.commands) sub.exitOverride();
  }
  return program;
}

export async function main(argv: string[]): Promise<void> {
  configureColour();
  // `daptin ... | head` closes the pipe early: that is not an error.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(EXIT_OK);
  });
  const program = buildProgram();
  try {
    await program.parseAsync(normaliseArgv(argv));
    process.exitCode = EXIT_OK;
  } catch (e) {
    if (e instanceof CommanderError) {
      const ok = e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help";
      process.exitCode = ok ? EXIT_OK : e.code === "commander.executeSubCommandAsync" ? e.exitCode : EXIT_USAGE;
      return;
    }
    process.exitCode = reportError(e);
  }
}
