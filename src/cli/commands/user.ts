// `daptin user signup|signin` and `daptin become-admin`: provisioning through the same actions the HTTP API runs.
import type { Command } from "commander";
import { Engine } from "../../engine/engine.ts";
import { notFound } from "../../engine/errors.ts";
import { SYSTEM } from "../../engine/identity/identity.ts";
import { addDbOptions, engineConfig, type DbOptions } from "../options.ts";
import { printJson, UsageError } from "../output.ts";

interface UserOptions extends DbOptions {
  email?: string;
  password?: string;
  name?: string;
  json?: boolean;
}

function open(opts: DbOptions): Engine {
  return Engine.open(engineConfig(opts)).engine;
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
  ).action(async (opts: UserOptions) => {
    const engine = open(opts);
    try {
      const email = required(opts.email, "--email");
      const password = required(opts.password, "--password");
      await engine.actions.run(SYSTEM, "user_account", "signup", { email, password, passwordConfirm: password, name: opts.name ?? email });
      const created = engine.users.byEmail(email)!;
      if (opts.json) printJson({ email: created.email, name: created.name, reference_id: created.userRef });
      else process.stdout.write(`Created user ${created.email} (${created.userRef})\n`);
    } finally {
      engine.close();
    }
  });

  addDbOptions(
    user
      .command("signin")
      .description("check a password and print a session token (for scripts)")
      .requiredOption("--email <email>", "email address")
      .requiredOption("--password <password>", "password")
      .option("--json", "print the token with its claims"),
  ).action(async (opts: UserOptions) => {
    const engine = open(opts);
    try {
      const responses = await engine.actions.run(SYSTEM, "user_account", "signin", { email: required(opts.email, "--email"), password: required(opts.password, "--password") });
      const token = String(responses.find((r) => r.ResponseType === "client.store.set")?.Attributes?.value ?? "");
      if (opts.json) printJson({ token, claims: await engine.tokens.verify(token) });
      else process.stdout.write(`${token}\n`);
    } finally {
      engine.close();
    }
  });

  addDbOptions(
    program
      .command("become-admin")
      .description("make a user the administrator and lock the instance down (become_an_administrator)")
      .requiredOption("--email <email>", "the user who becomes administrator")
      .option("--json", "print the result as JSON"),
  ).action(async (opts: UserOptions) => {
    const engine = open(opts);
    try {
      const who = engine.users.byEmail(required(opts.email, "--email"));
      if (!who) throw notFound("Unknown user", `there is no user with email ${opts.email}`);
      await engine.actions.run(who, "world", "become_an_administrator", {});
      if (opts.json) printJson({ administrator: who.email, lockedDown: true });
      else process.stdout.write(`${who.email} is now the administrator; the instance is locked down (only signin stays open to guests).\n`);
    } finally {
      engine.close();
    }
  });
}
