// `daptin action run TYPE NAME`: runs an action through the same engine as `POST /action/TYPE/NAME`.
import type { Command } from "commander";
import { SYSTEM } from "../../engine/identity/identity.ts";
import type { JsonValue } from "../../engine/schema/column-types/index.ts";
import { addDbOptions, type DbOptions, fileAttribute, identityOf, OPEN, withEngine } from "../options.ts";
import { chalk, printJson, progressBar, UsageError } from "../output.ts";

interface RunOptions extends DbOptions {
  attr: string[];
  file: string[];
  as?: string;
  json?: boolean;
}

const collect = (v: string, all: string[]) => [...all, v];

/** `k=v` split at the first `=` (the key may not be empty). */
function pair(text: string, flag: string): [string, string] {
  const i = text.indexOf("=");
  if (i <= 0) throw new UsageError(`${flag} takes key=value, got "${text}"`);
  return [text.slice(0, i), text.slice(i + 1)];
}

export function registerAction(program: Command): void {
  const action = program.command("action").description("run actions (for provisioning scripts)");
  addDbOptions(
    action
      .command("run")
      .description("run an action on the database directly and print its response array")
      .argument("<type>", "the table the action is on (e.g. user_account)")
      .argument("<name>", "the action name (e.g. signup)")
      .option("--attr <key=value>", "an input attribute (repeatable; JSON values such as 3 or true are typed)", collect, [])
      .option("--file <key=path>", "a file input, sent as [{name, file: base64}] like a browser upload (repeatable)", collect, [])
      .option("--as <email>", "run as this user (default: the system, which passes every gate)")
      .option("--json", "print the response array as JSON"),
  ).action(async (type: string, name: string, opts: RunOptions) => {
    const attributes: Record<string, JsonValue> = {};
    // A value that parses as JSON (numbers, booleans, objects) is taken as that, else as text.
    for (const a of opts.attr) {
      const [k, v] = pair(a, "--attr");
      try {
        attributes[k] = JSON.parse(v) as JsonValue;
      } catch {
        attributes[k] = v;
      }
    }
    for (const f of opts.file) {
      const [k, path] = pair(f, "--file");
      attributes[k] = fileAttribute(path, `--file ${k}=${path}`);
    }
    await withEngine(opts, OPEN.write, async (engine) => {
      const responses = await engine.actions.run(identityOf(engine, opts.as, SYSTEM), type, name, attributes, progressBar(`${type}/${name}`));
      if (opts.json) printJson(responses);
      else for (const r of responses) process.stdout.write(`${chalk.cyan(r.ResponseType)} ${JSON.stringify(r.Attributes)}\n`);
    });
  });
}
