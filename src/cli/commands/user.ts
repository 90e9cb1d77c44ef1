// `daptin user signup|signin|list|set-password` and `daptin become-admin`: provisioning through the same actions
// and data service the HTTP API uses.
import type { Command } from "commander";
import { listAccounts, setPassword } from "../../engine/identity/accounts.ts";
import { Groups } from "../../engine/identity/groups.ts";
import { SYSTEM } from "../../engine/identity/identity.ts";
import { addDbOptions, addPasswordOptions, type DbOptions, identityOf, OPEN, passwordOf, type PasswordOptions, withEngine } from "../options.ts";
import { AlreadyDone, printJson, UsageError } from "../output.ts";

interface UserOptions extends DbOptions, PasswordOptions {
  email?: string;
  name?: string;
  json?: boolean;
  ifMissing?: boolean;
}

function required(value: string | undefined, flag: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag} is required`);
  return value;
}

export const IF_MISSING = "when it exists already, succeed (exit 0) and change nothing, instead of exit 3";

export function registerUser(program: Command): void {
  const user = program.command("user").description("create, list and fix user accounts on the database directly (server running or not)");
  addDbOptions(
    addPasswordOptions(
      user
        .command("signup")
        .description("create a user account (the signup action, run with the system's rights); creates the database if missing")
        .requiredOption("--email <email>", "email address")
        .option("--name <name>", "display name (default: the email)")
        .option("--if-missing", IF_MISSING)
        .option("--json", "print the account as JSON"),
      "password (at least 8 characters)",
    ),
  ).action(async (opts: UserOptions) => {
    const email = required(opts.email, "--email");
    const password = await passwordOf(opts);
    await withEngine(opts, OPEN.create, async (engine) => {
      const existing = engine.users.byEmail(email);
      if (existing && !opts.ifMissing) throw new AlreadyDone(`a user with email ${existing.email} exists already`);
      if (!existing) await engine.actions.run(SYSTEM, "user_account", "signup", { email, password, passwordConfirm: password, name: opts.name ?? email });
      const account = engine.users.byEmail(email)!;
      const created = !existing;
      if (opts.json) printJson({ email: account.email, name: account.name, reference_id: account.userRef, created });
      else process.stdout.write(created ? `Created user ${account.email} (${account.userRef})\n` : `User ${account.email} exists already (${account.userRef}); unchanged\n`);
    });
  });

  addDbOptions(
    addPasswordOptions(
      user
        .command("signin")
        .description("check a password and print a session token (for scripts)")
        .requiredOption("--email <email>", "email address")
        .option("--json", "print the token with its claims"),
    ),
  ).action(async (opts: UserOptions) => {
    const email = required(opts.email, "--email");
    const password = await passwordOf(opts);
    await withEngine(opts, OPEN.write, async (engine) => {
      const responses = await engine.actions.run(SYSTEM, "user_account", "signin", { email, password });
      const token = String(responses.find((r) => r.ResponseType === "client.store.set")?.Attributes?.value ?? "");
      if (opts.json) printJson({ token, claims: await engine.tokens.verify(token) });
      else process.stdout.write(`${token}\n`);
    });
  });

  addDbOptions(
    user
      .command("list")
      .description("list the user accounts: email, name, groups (read-only)")
      .option("--json", "print the accounts as JSON"),
  ).action((opts: UserOptions) =>
    withEngine(opts, OPEN.read, (engine) => {
      const accounts = listAccounts(engine.db, new Groups(engine.db, engine.data));
      if (opts.json) {
        printJson(accounts);
        return;
      }
      const width = (f: (a: (typeof accounts)[number]) => string) => Math.max(0, ...accounts.map((a) => f(a).length));
      const [email, name] = [width((a) => a.email), width((a) => a.name)];
      for (const a of accounts) process.stdout.write(`${a.email.padEnd(email)}  ${a.name.padEnd(name)}  [${a.groups.join(", ")}]\n`);
    }),
  );

  addDbOptions(
    addPasswordOptions(
      user
        .command("set-password")
        .description("set a user's password (tokens issued before stop working); the same password again changes nothing")
        .requiredOption("--email <email>", "the user")
        .option("--json", "print the result as JSON"),
      "new password (at least 8 characters)",
    ),
  ).action(async (opts: UserOptions) => {
    const email = required(opts.email, "--email");
    const password = await passwordOf(opts);
    await withEngine(opts, OPEN.write, async (engine) => {
      const changed = await setPassword(engine.data, engine.users, email, password);
      const stored = engine.users.byEmail(email)!.email;
      if (opts.json) printJson({ email: stored, changed });
      else process.stdout.write(changed ? `Password of ${stored} changed\n` : `Password of ${stored} is that already; unchanged\n`);
    });
  });

  addDbOptions(
    program
      .command("become-admin")
      .description("make a user the administrator and lock the instance down (become_an_administrator)")
      .requiredOption("--email <email>", "the user who becomes administrator")
      .option("--if-missing", "when the user is an administrator already, succeed (exit 0) and change nothing, instead of exit 3")
      .option("--json", "print the result as JSON"),
  ).action((opts: UserOptions) =>
    withEngine(opts, OPEN.write, async (engine) => {
      const who = identityOf(engine, required(opts.email, "--email"), SYSTEM);
      if (who.isAdmin && !opts.ifMissing) throw new AlreadyDone(`${who.email} is an administrator already`);
      if (!who.isAdmin) await engine.actions.run(who, "world", "become_an_administrator", {});
      if (opts.json) printJson({ administrator: who.email, lockedDown: true, changed: !who.isAdmin });
      else if (who.isAdmin) process.stdout.write(`${who.email} is an administrator already; unchanged\n`);
      else process.stdout.write(`${who.email} is now the administrator; the instance is locked down (only signin stays open to guests).\n`);
    }),
  );
}
