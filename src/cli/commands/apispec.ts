// `daptin apispec`: the OpenAPI document of a database, as `GET /openapi.yaml` serves it to an administrator.
import type { Command } from "commander";
import { openApiText } from "../../apispec/cache.ts";
import { SYSTEM } from "../../engine/identity/identity.ts";
import { addDbOptions, type DbOptions, DEFAULT_PORT, OPEN, withEngine } from "../options.ts";
import { UsageError } from "../output.ts";

interface ApiSpecOptions extends DbOptions {
  format: string;
  server?: string;
}

export function registerApiSpec(program: Command): void {
  addDbOptions(
    program
      .command("apispec")
      .description("print the OpenAPI 3 document of the database (the administrator's view: every table and action)")
      .option("--format <format>", "yaml or json", "yaml")
      .option("--server <url>", "the servers entry (the HTTP endpoint uses the URL it was called on)", `http://localhost:${DEFAULT_PORT}`),
  ).action((opts: ApiSpecOptions) => {
    const format = opts.format.toLowerCase();
    if (format !== "yaml" && format !== "json") throw new UsageError(`--format must be yaml or json, got "${opts.format}"`);
    return withEngine(opts, OPEN.read, (engine) => {
      const text = openApiText(engine, SYSTEM, format, opts.server);
      process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
    });
  });
}
