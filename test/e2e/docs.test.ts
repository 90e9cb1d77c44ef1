// Every shell example in README.md and docs/*.md runs as written, against the real binary, and answers what the page
// says it answers (the conventions are in test/helpers/doc-examples.ts).
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { daptinCommand, FIXTURES, freePort, tempDir } from "../helpers/daptin.ts";
import { linesMatch, normalise, parseExamples, pattern, type Step } from "../helpers/doc-examples.ts";

const ROOT = resolve(import.meta.dir, "../..");
const DOCS = ["README.md", ...readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)];
const STATUS = /__DOCTEST_HTTP__ (\d{3})\n?/g;
const DONE = "__DOCTEST_DONE__";

/** A directory with `daptin` in it: the compiled binary under npm test, the CLI from source otherwise. */
function binDir(): string {
  const dir = tempDir("daptin-doc-bin-");
  const cmd = daptinCommand();
  if (cmd.length === 1) symlinkSync(cmd[0]!, join(dir, "daptin"));
  else {
    writeFileSync(join(dir, "daptin"), `#!/bin/sh\nexec ${cmd.map((c) => `'${c}'`).join(" ")} "$@"\n`);
    chmodSync(join(dir, "daptin"), 0o755);
  }
  return dir;
}

interface Outcome {
  code: number;
  output: string;
  statuses: number[];
}

/** One bash session per page: variables and the working directory carry from one example to the next. */
class Session {
  private readonly proc;
  private readonly reader;
  private pending = "";
  private lastCode = 0;
  private server: ReturnType<typeof Bun.spawn> | undefined;
  private readonly out: string;

  constructor(readonly dir: string, readonly env: Record<string, string>) {
    this.out = join(dir, ".doctest-out");
    this.proc = Bun.spawn(["bash", "--noprofile", "--norc"], { cwd: dir, env, stdin: "pipe", stdout: "pipe", stderr: "inherit" });
    this.reader = this.proc.stdout.getReader();
    // curl's status goes to standard error after the body, where the checks below find it.
    this.proc.stdin.write(`curl() { command curl -w '%{stderr}__DOCTEST_HTTP__ %{http_code}\\n' "$@"; }\nexport -f curl\n`);
  }

  async run(command: string, timeoutMs = 60_000): Promise<Outcome> {
    if (/^\s*daptin serve\b/.test(command)) return this.serve(command.replace(/\s*&\s*$/, ""));
    this.proc.stdin.write(`(exit ${this.lastCode}); { ${command}\n} >${this.out} 2>&1 </dev/null; echo "${DONE} $?"\n`);
    this.proc.stdin.flush();
    const code = await this.marker(timeoutMs);
    this.lastCode = code;
    return this.outcome(code, readFileSync(this.out, "utf8"));
  }

  private outcome(code: number, raw: string): Outcome {
    const statuses = [...raw.matchAll(STATUS)].map((m) => Number(m[1]));
    return { code, output: raw.replace(STATUS, ""), statuses };
  }

  private async marker(timeoutMs: number): Promise<number> {
    const decoder = new TextDecoder();
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.pending.indexOf(DONE);
      if (at >= 0) {
        const end = this.pending.indexOf("\n", at);
        if (end >= 0) {
          const code = Number(this.pending.slice(at + DONE.length, end).trim());
          this.pending = this.pending.slice(end + 1);
          return code;
        }
      }
      const timer = new Promise<null>((r) => setTimeout(() => r(null), Math.max(0, deadline - Date.now())));
      const chunk = await Promise.race([this.reader.read(), timer]);
      if (chunk === null) throw new Error(`timed out after ${timeoutMs} ms`);
      if (chunk.done) throw new Error("bash exited");
      this.pending += decoder.decode(chunk.value);
    }
  }

  /** `daptin serve ...` in the background, in the page's directory; answers once it listens (its log so far). */
  private async serve(command: string): Promise<Outcome> {
    await this.stopServer();
    const log = join(this.dir, ".doctest-serve.log");
    this.server = Bun.spawn(["bash", "-c", `exec ${command} >${log} 2>&1`], { cwd: this.dir, env: this.env, stdin: "ignore" });
    const deadline = Date.now() + 20_000;
    for (;;) {
      const text = (() => {
        try {
          return readFileSync(log, "utf8");
        } catch {
          return "";
        }
      })();
      if (/Listening at: /.test(text)) return { code: 0, output: text, statuses: [] };
      if (this.server.exitCode !== null) return { code: this.server.exitCode, output: text, statuses: [] };
      if (Date.now() > deadline) return { code: -1, output: `${text}\n(did not start listening in 20 s)`, statuses: [] };
      await Bun.sleep(50);
    }
  }

  async stopServer(): Promise<void> {
    if (!this.server) return;
    this.server.kill("SIGTERM");
    await this.server.exited;
    this.server = undefined;
  }

  async close(): Promise<void> {
    await this.stopServer();
    this.proc.stdin.end();
    await this.proc.exited;
  }
}

/** What is wrong with one example's outcome, or undefined. */
function check(step: Step, r: Outcome): string | undefined {
  const shown = r.output.length > 1500 ? `${r.output.slice(0, 1500)}...` : r.output;
  const e = step.expect;
  const console = e?.lines !== undefined;
  if (r.code !== 0 && !(console && step.mayFail)) return `exit code ${r.code}\n${shown}`;
  if (console) {
    const m = linesMatch(e!.lines!, r.output.split("\n"));
    return m.ok ? undefined : `output has no line matching\n  ${m.missing}\ngot:\n${shown}`;
  }
  const last = r.statuses.at(-1);
  if (e?.status !== undefined) {
    if (last !== e.status) return `HTTP status ${last ?? "(no curl)"}, the page says ${e.status}\n${shown}`;
  } else {
    const bad = r.statuses.find((s) => s >= 400);
    if (bad !== undefined) return `HTTP status ${bad}\n${shown}`;
  }
  if (e?.names) {
    let names: unknown;
    try {
      names = (JSON.parse(r.output) as { data: { attributes: { name: unknown } }[] }).data.map((d) => d.attributes.name);
    } catch {
      return `not a JSON:API list\n${shown}`;
    }
    if (JSON.stringify(names) !== JSON.stringify(e.names)) return `names ${JSON.stringify(names)}, the page says ${JSON.stringify(e.names)}`;
  }
  if (e?.text !== undefined && !pattern(e.text).test(normalise(r.output))) return `output does not match the page\n  page: ${e.text}\n  got:  ${shown}`;
  return undefined;
}

/** A page's steps, with those of the pages it continues (`<!-- doctest: after PAGE -->`) in front. */
function stepsOf(doc: string, seen = new Set<string>()): Step[] {
  if (seen.has(doc)) throw new Error(`${doc}: doctest "after" pages form a loop`);
  seen.add(doc);
  const steps = parseExamples(doc, readFileSync(join(ROOT, doc), "utf8"));
  return steps.flatMap((s) => (s.kind === "after" ? stepsOf(s.path!, seen) : [s]));
}

const bin = binDir();
afterAll(() => rmSync(bin, { recursive: true, force: true }));

describe("the documentation's examples run as written", () => {
  for (const doc of DOCS) {
    const steps = stepsOf(doc);
    if (!steps.some((s) => s.kind === "run" || s.kind === "hidden")) continue;
    test(doc, async () => {
      const dir = tempDir("daptin-doc-");
      const port = await freePort();
      const env: Record<string, string> = {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        NO_COLOR: "1",
        DAPTIN_PORT: String(port),
        LANG: "C.UTF-8",
        // Files the pages assume without showing them (the README's schema, seed rows).
        DOCTEST_FIXTURES: FIXTURES,
      };
      const shell = new Session(dir, env);
      const failures: string[] = [];
      try {
        for (const step of steps) {
          const where = `${step.file}:${step.line}`;
          if (step.kind === "skip") {
            expect(`${where} skipped: ${step.reason}`).not.toMatch(/skipped: no reason given$/);
            continue;
          }
          if (step.kind === "write") {
            mkdirSync(join(dir, step.path!, ".."), { recursive: true });
            writeFileSync(join(dir, step.path!), step.content!);
            continue;
          }
          const command = step.command.replace(/\b6336\b/g, String(port));
          let r: Outcome;
          try {
            r = await shell.run(command);
          } catch (e) {
            failures.push(`${where}: ${step.command}\n  ${(e as Error).message}`);
            break;
          }
          const wrong = step.kind === "hidden" ? (r.code === 0 ? undefined : `hidden setup failed (exit ${r.code})\n${r.output}`) : check(step, r);
          if (wrong) failures.push(`${where}: ${step.command}\n  ${wrong.replace(/\n/g, "\n  ")}`);
        }
      } finally {
        await shell.close();
        rmSync(dir, { recursive: true, force: true });
      }
      expect(failures.join("\n\n")).toBe("");
    }, 300_000);
  }
});
