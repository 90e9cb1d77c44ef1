// Terminal manners shared by every command: colours only on a TTY without NO_COLOR, one-line errors, exit codes.
import chalk from "chalk";
import { DaptinError } from "../engine/errors.ts";
import { SchemaParseError } from "../engine/schema/parse.ts";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

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

/** Prints an error as one line (or a few, for schema refusals) and returns the exit code it deserves. */
export function reportError(e: unknown): number {
  const say = (msg: string) => process.stderr.write(`${chalk.red("error:")} ${msg}\n`);
  if (e instanceof SchemaParseError) {
    say(e.message);
    return EXIT_USAGE;
  }
  if (e instanceof UsageError) {
    say(e.message);
    return EXIT_USAGE;
  }
  if (e instanceof DaptinError) {
    if (e.kind === "schema" && e.detail?.includes("\n")) {
      say(`${e.title}:`);
      for (const line of e.detail.split("\n")) process.stderr.write(`  ${line}\n`);
    } else say(e.detail && !e.detail.toLowerCase().startsWith(e.title.toLowerCase()) ? `${e.title}: ${e.detail}` : (e.detail ?? e.title));
    return e.kind === "bad_request" || e.kind === "validation" ? EXIT_USAGE : EXIT_FAILED;
  }
  say(e instanceof Error ? e.message : String(e));
  return EXIT_FAILED;
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
