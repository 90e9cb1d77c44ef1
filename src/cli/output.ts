// Terminal manners shared by every command: colours only on a TTY without NO_COLOR, one-line errors, exit codes.
import chalk from "chalk";
import { DaptinError } from "../engine/errors.ts";
import { SchemaParseError } from "../engine/schema/parse.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
/** What the command would create exists already: nothing changed (`--if-missing` turns this into 0). */
export const EXIT_ALREADY_DONE = 3;

export function configureColour(stream: NodeJS.WriteStream = process.stdout): void {
  if (process.env.NO_COLOR !== undefined || !stream.isTTY) chalk.level = 0;
}

export { chalk };

/** Daptin-style log line: `INFO[2026-01-24 10:30:00] message`. */
export function logLine(message: string, level: "INFO" | "WARN" | "ERRO" = "INFO"): void {
  const ts = new Date().toISOString().replace("T", " ").slice(0, 19);
  const tag = level === "INFO" ? chalk.cyan(level) : level === "WARN" ? chalk.yellow(level) : chalk.red(level);
  process.stderr.write(`${tag}[${ts}] ${message}\n`);
}

export class UsageError extends Error {}

/** The state the command asks for holds already (the user, group or membership exists): exit 3, nothing written. */
export class AlreadyDone extends Error {}

export interface ErrorContext {
  /** Errors as `{"error": {...}}` on standard output instead of a line on standard error. */
  json?: boolean;
  /** The command that ran (`user signup`), named when it waited for the write lock in vain. */
  command?: string;
}

interface ErrorReport {
  kind: string;
  title: string;
  detail?: string;
  code?: string;
  pointer?: string;
  exit: number;
  /** The one line a person reads on standard error. */
  line: string;
}

function describeError(e: unknown, command: string | undefined): ErrorReport {
  const plain = (kind: string, title: string, detail: string, exit: number) => ({ kind, title, detail, exit, line: detail });
  if (e instanceof SchemaParseError) return plain("usage", "Invalid schema file", e.message, EXIT_USAGE);
  if (e instanceof UsageError) return plain("usage", "Usage error", e.message, EXIT_USAGE);
  if (e instanceof AlreadyDone) return plain("already_done", "Already done", e.message, EXIT_ALREADY_DONE);
  if (e instanceof DaptinError) {
    const exit = e.kind === "bad_request" || e.kind === "validation" ? EXIT_USAGE : EXIT_FAILED;
    const base = { title: e.title, code: e.code, pointer: e.source?.pointer, exit };
    if (e.code === "database_locked") {
      const detail = `${command ?? "the command"} ${e.detail}`;
      return { ...base, kind: "locked", detail, line: `database is locked: ${detail}` };
    }
    const hint = e.code === "no_database" ? " (`daptin serve`, `daptin schema apply` and `daptin user signup` create one)" : "";
    const detail = e.detail === undefined ? undefined : `${e.detail}${hint}`;
    // A detail that starts with its title (`forbidden: ...` under "Forbidden") is not repeated after it.
    const line = detail === undefined ? e.title : detail.toLowerCase().startsWith(`${e.title.toLowerCase()}:`) ? detail : `${e.title}: ${detail}`;
    return { ...base, kind: e.kind, detail, line };
  }
  return plain("internal", "Failed", e instanceof Error ? e.message : String(e), EXIT_FAILED);
}

/**
 * Prints an error and returns the exit code it deserves: one line on standard error (a few for schema refusals),
 * or with `--json` one document on standard output, `{"error": {kind, title, detail}}`.
 */
export function reportError(e: unknown, ctx: ErrorContext = {}): number {
  const r = describeError(e, ctx.command);
  if (ctx.json) {
    const error = { kind: r.kind, title: r.title, detail: r.detail, code: r.code, pointer: r.pointer };
    printJson({ error: Object.fromEntries(Object.entries(error).filter(([, v]) => v !== undefined)) });
    return r.exit;
  }
  const say = (msg: string) => process.stderr.write(`${chalk.red("error:")} ${msg}\n`);
  if (r.kind === "schema" && r.detail?.includes("\n")) {
    say(`${r.title}:`);
    for (const line of r.detail.split("\n")) process.stderr.write(`  ${line}\n`);
  } else say(r.line);
  return r.exit;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A progress bar on standard error when it is a terminal (nothing otherwise, so pipes and logs stay clean). */
export function progressBar(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done < total && now - last < 100) return;
    last = now;
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    process.stderr.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${done}/${total}`);
    if (done >= total) process.stderr.write("\n");
  };
}
