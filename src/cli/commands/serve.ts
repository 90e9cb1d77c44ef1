// `daptin serve`: apply the schema files found at start, then serve HTTP until SIGINT/SIGTERM.
import { accessSync, constants, statSync } from "node:fs";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
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

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** An IP address (IPv6 with or without brackets) or a host name that resolves; `256.1.1.1` is neither. */
async function checkedHost(text: string): Promise<string> {
  const host = text.replace(/^\[(.*)\]$/, "$1");
  if (isIP(host) !== 0) return host;
  if (/^[\d.]+$/.test(host) || !HOST_NAME.test(host)) throw new UsageError(`--host must be an IP address or a host name, got "${text}"`);
  try {
    await lookup(host);
  } catch {
    throw new UsageError(`--host ${text}: no such host`);
  }
  return host;
}

/** The folder named by --schema-dir (or DAPTIN_SCHEMA_FOLDER), which must be a readable directory. */
function checkedSchemaDir(dir: string, label: string): string {
  const path = resolve(dir || ".");
  let why: string | undefined;
  try {
    if (!statSync(path).isDirectory()) why = "not a directory";
    else accessSync(path, constants.R_OK | constants.X_OK);
  } catch (e) {
    why = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : "permission denied";
  }
  if (why) throw new UsageError(`${label} ${dir}: ${why}`);
  return path;
}

export function registerServe(program: Command): void {
  addDbOptions(
    program
      // Daptin's binary has no subcommands: `daptin -port 8080` serves (main.ts puts `serve` in front).
      .command("serve")
      .description("start the HTTP server (applies schema_*.yaml|yml|json from the working directory and --schema-dir)")
      .option("--port <port>", "port to listen on (env DAPTIN_PORT)", undefined)
      .option("--host <address>", "address to bind", "0.0.0.0")
      .option("--schema-dir <dir>", "another folder to read schema_* files from (env DAPTIN_SCHEMA_FOLDER)"),
  ).action(async (opts: ServeOptions) => {
    const portText = opts.port ?? process.env.DAPTIN_PORT ?? String(DEFAULT_PORT);
    const port = Number(portText.replace(/^:/, ""));
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${portText}"`);
    const host = await checkedHost(opts.host ?? "0.0.0.0");
    const cfg = engineConfig(opts);
    const schemaDir = opts.schemaDir ?? process.env.DAPTIN_SCHEMA_FOLDER;
    const label = opts.schemaDir !== undefined ? "--schema-dir" : "DAPTIN_SCHEMA_FOLDER";
    const dirs = [process.cwd(), ...(schemaDir !== undefined ? [checkedSchemaDir(schemaDir, label)] : [])];
    const files = discoverSchemaFiles(dirs);
    for (const f of files) logLine(`Loading schema file ${f}`);
    const started = performance.now();
    const { engine, report } = Engine.open(cfg, { schemaFiles: files });
    for (const w of report.warnings) logLine(w, "WARN");
    logLine(`Database ${cfg.db} ready: ${engine.registry.tables.size} tables, ${report.plan.steps.length} schema changes applied in ${Math.round(performance.now() - started)} ms`);
    let server: ReturnType<typeof startServer>;
    try {
      server = startServer(engine, { port, hostname: host, log: (m) => logLine(m, "ERRO") });
    } catch (e) {
      engine.close();
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === "EADDRINUSE" ? "the port is in use" : code === "EADDRNOTAVAIL" ? "no such address on this machine" : code === "EACCES" ? "permission denied" : e instanceof Error ? e.message : String(e);
      throw new Error(`cannot listen on ${host}:${port}: ${why}`);
    }
    logLine(`[ProcessId=${process.pid}] Listening at port: :${server.port}`);
    logLine(`Listening at: [${host}:${server.port}]`);

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
