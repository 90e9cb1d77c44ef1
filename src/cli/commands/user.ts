// `daptin user signup|signin` and `daptin become-admin`: provisioning through the same actions the HTTP API runs.
import type { Command } from "commander";
import { SYSTEM } from "../../engine/identity/identity.ts";
import { addDbOptions, type DbOptions, identityOf, withEngine } from "../options.ts";
import { printJson, UsageError } from "../output.ts";

interface UserOptions extends DbOptions {
  email?: string;
  password?: string;
  name?: string;
  json?: boolean;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required`);
  return value;
}

export function registerUser(program: Command): void {
  const user = program.command("user").description("create users and sign in, on the database directly (server running or not)");
  addDbOptions(
    user
      .command("signup")
      .description("create a user account (the signup action, run with the system's rights)")
      .requiredOption("--email <email>", "email address")
      .requiredOption("--password <password>", "password (at least 8 characters)")
      .option("--name <name>", "display name (default: the email)")
      .option("--json", "print the created account as JSON"),
  ).action((opts: UserOptions) =>
    withEngine(opts, async (engine) => {
      const email = required(opts.email, "--email");
      const password = required(opts.password, "--password");
      await engine.actions.run(SYSTEM, "user_account", "signup", { email, password, passwordConfirm: password, name: opts.name ?? email });
      const created = engine.users.byEmail(email)!;
      if (opts.json) printJson({ email: created.email, name: created.name, reference_id: created.userRef });
      else process.stdout.write(`Created user ${created.email} (${created.userRef})\n`);
    }),
  );

  addDbOptions(
    user
      .command("signin")
      .description("check a password and print a session token (for scripts)")
      .requiredOption("--email <email>", "email address")
      .requiredOption("--password <password>", "password")
      .option("--json", "print the token with its claims"),
  ).action((opts: UserOptions) =>
    withEngine(opts, async (engine) => {
      const responses = await engine.actions.run(SYSTEM, "user_account", "signin", { email: required(opts.email, "--email"), password: required(opts.password, "--password") });
      const token = String(responses.find((r) => r.ResponseType === "client.store.set")?.Attributes?.value ?? "");
      if (opts.json) printJson({ token, claims: await engine.tokens.verify(token) });
      else process.stdout.write(`${token}\n`);
    }),
  );

  addDbOptions(
    program
      .command("become-admin")
      .description("make a user the administrator and lock the instance down (become_an_administrator)")
      .requiredOption("--email <email>", "the user who becomes administrator")
      .option("--json", "print the result as JSON"),
  ).action((opts: UserOptions) =>
    withEngine(opts, async (engine) => {
      const who = identityOf(engine, required(opts.email, "--email"), SYSTEM);
      await engine.actions.run(who, "world", "become_an_administrator", {});
      if (opts.json) printJson({ administrator: who.email, lockedDown: true });
      else process.stdout.write(`${who.email} is now the administrator; the instance is locked down (only signin stays open to guests).\n`);
    }),
  );
}
