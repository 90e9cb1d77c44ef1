// Runs the real `daptin`: the compiled binary when DAPTIN_BIN is set (npm test), else the CLI from source.
import { Database } from "bun:sqlite";
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:net";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = process.execPath;

export function daptinCommand(): string[] {
  const bin = process.env.DAPTIN_BIN;
  return bin ? [resolve(ROOT, bin)] : [BUN, join(ROOT, "bin/daptin")];
}

/** A port nothing listens on right now (the OS picks it), for servers a test starts with a port of its own. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer().listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => done(port));
    });
    srv.on("error", fail);
  });
}

export function tempDir(prefix = "daptin-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const proc = Bun.spawn([...daptinCommand(), ...args], {
    cwd: opts.cwd ?? tempDir(),
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

export interface TestServer {
  url: string;
  port: number;
  /** The server process (for /proc/<pid>/status and its children). */
  pid: number;
  dir: string;
  db: string;
  log: () => string;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

/**
 * Starts `daptin serve` on a free port with a fresh database in a temp directory. `schemas` names fixture files
 * copied into that directory first, where serve picks them up as it does in production.
 */
export async function startServer(opts: { dir?: string; args?: string[]; env?: Record<string, string>; schemas?: string[] } = {}): Promise<TestServer> {
  const dir = opts.dir ?? tempDir();
  for (const f of opts.schemas ?? []) copyFileSync(join(FIXTURES, f), join(dir, f));
  const db = join(dir, "daptin.db");
  const proc = Bun.spawn([...daptinCommand(), "serve", "--port", "0", "--host", "127.0.0.1", "--db", db, ...(opts.args ?? [])], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: "1", ...opts.env },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  let log = "";
  const decoder = new TextDecoder();
  const reader = proc.stderr.getReader();
  const port = await new Promise<number>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${log}`)), 15000);
    (async () => {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        log += decoder.decode(value);
        const m = /Listening at port: :(\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          done(Number(m[1]));
        }
      }
      clearTimeout(timer);
      fail(new Error(`server exited:\n${log}`));
    })().catch(() => {});
  });
  // Keep draining stderr so the server never blocks on a full pipe.
  (async () => {
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      log += decoder.decode(value);
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    pid: proc.pid,
    dir,
    db,
    log: () => log,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      proc.kill(signal);
      const code = await proc.exited;
      if (!opts.dir) rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

/** A small JSON:API client: `api(s, "POST", "/api/todo", {data: ...})`. */
export async function api<T = any>(
  server: { url: string },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse<T>> {
  const res = await fetch(server.url + path, {
    method,
    headers: { "Content-Type": "application/vnd.api+json", ...headers },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

export const FIXTURES = join(ROOT, "test/fixtures");

/** Runs `work` while `/ping` is probed every 5 ms: its result and the longest /ping round trip (ms) meanwhile. */
export async function pingWhile<T>(server: { url: string }, work: () => Promise<T>): Promise<{ result: T; worst: number }> {
  let polling = true;
  let worst = 0;
  const poller = (async () => {
    while (polling) {
      const t = performance.now();
      await fetch(`${server.url}/ping`);
      worst = Math.max(worst, performance.now() - t);
      await Bun.sleep(5);
    }
  })();
  await Bun.sleep(20);
  try {
    const result = await work();
    polling = false;
    await poller;
    return { result, worst };
  } finally {
    polling = false;
  }
}

/** Writes `_config` backend settings into a running server's database, as another process would. */
export async function configure(s: TestServer, values: Record<string, string>): Promise<void> {
  const db = new Database(s.db);
  db.run("PRAGMA busy_timeout = 5000");
  for (const [name, value] of Object.entries(values)) {
    const changed = db.query("UPDATE _config SET value = ? WHERE name = ? AND configtype = 'backend'").run(value, name).changes;
    if (changed === 0) {
      db.query(`INSERT INTO _config (name, configtype, configstate, configenv, value, valuetype, created_at, updated_at)
        VALUES (?, 'backend', 'enabled', 'release', ?, 'string', datetime('now'), datetime('now'))`).run(name, value);
    }
  }
  db.close();
  // The server notices another process's write at its next request.
  await api(s, "GET", "/api/usergroup");
}
