// `daptin serve`: apply the schema files found at start, then serve HTTP until SIGINT/SIGTERM.
import { resolve } from "node:path";
import type { Command } from "commander";
import { Engine } from "../../engine/engine.ts";
import { discoverSchemaFiles } from "../../engine/schema/load.ts";
import { startServer } from "../../server/app.ts";
import { addDbOptions, DEFAULT_PORT, engineConfig, type DbOptions } from "../options.ts";
import { logLine, UsageError } from "../output.ts";

interface ServeOptions extends DbOptions {
  port?: string;
  host?: string;
  schemaDir?: string;
}

export function registerServe(program: Command): void {
  addDbOptions(
    program
      // Daptin's binary has no subcommands: `daptin -port 8080` serves. So does ours.
      .command("serve", { isDefault: true })
      .description("start the HTTP server (applies schema_*.yaml|yml|json from the working directory and --schema-dir)")
      .option("--port <port>", "port to listen on (env DAPTIN_PORT)", undefined)
      .option("--host <address>", "address to bind", "0.0.0.0")
      .option("--schema-dir <dir>", "another folder to read schema_* files from (env DAPTIN_SCHEMA_FOLDER)"),
  ).action(async (opts: ServeOptions) => {
    const portText = opts.port ?? process.env.DAPTIN_PORT ?? String(DEFAULT_PORT);
    const port = Number(portText.replace(/^:/, ""));
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${portText}"`);
    const cfg = engineConfig(opts);
    const schemaDir = opts.schemaDir ?? process.env.DAPTIN_SCHEMA_FOLDER;
    const dirs = [process.cwd(), ...(schemaDir !== undefined ? [resolve(schemaDir || ".")] : [])];
    const files = discoverSchemaFiles(dirs);
    for (const f of files) logLine(`Loading schema file ${f}`);
    const started = performance.now();
    const { engine, report } = Engine.open(cfg, { schemaFiles: files });
    for (const w of report.warnings) logLine(w, "WARN");
    logLine(`Database ${cfg.db} ready: ${engine.registry.tables.size} tables, ${report.plan.steps.length} schema changes applied in ${Math.round(performance.now() - started)} ms`);
    const server = startServer(engine, { port, hostname: opts.host, log: (m) => logLine(m, "ERRO") });
    logLine(`[ProcessId=${process.pid}] Listening at port: :${server.port}`);
    logLine(`Listening at: [${opts.host ?? "0.0.0.0"}:${server.port}]`);

    await new Promise<void>((done) => {
      let stopping = false;
      const stop = async (signal: string) => {
        if (stopping) return;
        stopping = true;
        logLine(`${signal} received: finishing in-flight requests`);
        await server.stop();
        engine.close();
        logLine("Stopped");
        done();
      };
      process.on("SIGINT", () => void stop("SIGINT"));
      process.on("SIGTERM", () => void stop("SIGTERM"));
    });
  });
}
