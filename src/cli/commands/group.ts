// `daptin group create|add-user|list`: user groups for provisioning scripts (rows and actions are shared with groups).
import type { Command } from "commander";
import { Groups } from "../../engine/identity/groups.ts";
import { addDbOptions, type DbOptions, identityOf, OPEN, withEngine } from "../options.ts";
import { AlreadyDone, printJson, UsageError } from "../output.ts";
import { SYSTEM } from "../../engine/identity/identity.ts";
import { IF_MISSING } from "./user.ts";

interface GroupOptions extends DbOptions {
  json?: boolean;
  ifMissing?: boolean;
}

export function registerGroup(program: Command): void {
  const group = program.command("group").description("create user groups, add users to them, list them");
  addDbOptions(
    group
      .command("create")
      .description("create a user group")
      .argument("<name>", "the group's name (unique)")
      .option("--if-missing", IF_MISSING)
      .option("--json", "print the group as JSON"),
  ).action((name: string, opts: GroupOptions) => {
    if (name.trim() === "") throw new UsageError("the group name may not be empty");
    return withEngine(opts, OPEN.write, async (engine) => {
      const groups = new Groups(engine.db, engine.data);
      const existing = groups.find(name);
      if (existing && !opts.ifMissing) throw new AlreadyDone(`a group named "${name}" exists already`);
      const g = existing ?? (await groups.create(name));
      if (opts.json) printJson({ name: g.name, reference_id: g.reference_id, created: !existing });
      else process.stdout.write(existing ? `Group ${g.name} exists already (${g.reference_id}); unchanged\n` : `Created group ${g.name} (${g.reference_id})\n`);
    });
  });

  addDbOptions(
    group
      .command("add-user")
      .description("add a user to a group")
      .argument("<group>", "the group's name")
      .argument("<email>", "the user's email")
      .option("--if-missing", "when the user is a member already, succeed (exit 0) and change nothing, instead of exit 3")
      .option("--json", "print the result as JSON"),
  ).action((groupName: string, email: string, opts: GroupOptions) =>
    withEngine(opts, OPEN.write, async (engine) => {
      const user = identityOf(engine, email, SYSTEM);
      const added = await new Groups(engine.db, engine.data).addMember(groupName, user.userRef!, user.email!);
      if (!added && !opts.ifMissing) throw new AlreadyDone(`${user.email} is a member of ${groupName} already`);
      if (opts.json) printJson({ group: groupName, email: user.email, added });
      else process.stdout.write(added ? `Added ${user.email} to ${groupName}\n` : `${user.email} is a member of ${groupName} already; unchanged\n`);
    }),
  );

  addDbOptions(
    group
      .command("list")
      .description("list the user groups and their members (read-only)")
      .option("--json", "print the groups as JSON"),
  ).action((opts: GroupOptions) =>
    withEngine(opts, OPEN.read, (engine) => {
      const groups = new Groups(engine.db, engine.data).list();
      if (opts.json) {
        printJson(groups);
        return;
      }
      const width = Math.max(0, ...groups.map((g) => g.name.length));
      for (const g of groups) process.stdout.write(`${g.name.padEnd(width)}  ${g.members.length} member${g.members.length === 1 ? "" : "s"}${g.members.length ? `: ${g.members.join(", ")}` : ""}\n`);
    }),
  );
}
