// JavaScript in action expressions (`!js`, `{{js}}`, `js:`) runs in QuickJS compiled to WebAssembly, in a separate
// interpreter process (sandbox/): no access to the host (no Bun, no process, no environment, no secrets), limits
// on time, memory, the context going in and the result coming out (sandbox/protocol.ts). The context goes in as
// JSON and the result comes out as JSON.
//
// The outcome chain is synchronous today (its run of outcomes shares one synchronous SQLite transaction), so the
// server thread hands the job to the broker worker and waits for the answer with Atomics.wait and a hard deadline:
// whatever the script does, the server is blocked for at most HARD_WAIT_MS, then the process running the script is
// killed and a warm one takes its place. Waits add up, so they are shared out: one action call's (ScriptBudget), one
// client address's and all callers' per second (sandbox/shares.ts). When the chain can await, `Sandbox.waitSync`
// gets an asynchronous sibling on the same answer slot (Atomics.waitAsync); nothing else changes.
import { fileURLToPath } from "node:url";
import { DaptinError } from "../errors.ts";
import type { JsonValue } from "../schema/column-types/index.ts";
import {
  ANSWER_BUFFER_BYTES, type ChildCommand, type FromBroker, HARD_WAIT_MS, HEADER_BYTES, LIMITS, Slot, Status,
  type StatusCode, type ToBroker,
} from "./sandbox/protocol.ts";
import { everyone, windowOf } from "./sandbox/shares.ts";

export class ScriptError extends Error {}

/**
 * Script time and result bytes of one action call: its evaluations together block the server, so they share limits.
 * `client` is the caller's address (HTTP), whose calls share a window of script time (sandbox/shares.ts).
 */
export class ScriptBudget {
  private spentMs = 0;
  private resultBytes = 0;

  constructor(readonly client = "") {}

  remainingMs(): number {
    return LIMITS.callTimeMs - this.spentMs;
  }

  spend(ms: number): void {
    this.spentMs += ms;
  }

  /** Counts a result; false once the call's results together are over their limit. */
  produce(bytes: number): boolean {
    this.resultBytes += bytes;
    return this.resultBytes <= LIMITS.callResultBytes;
  }

  overResults(): boolean {
    return this.resultBytes > LIMITS.callResultBytes;
  }
}

/** Less room than this left in a window: an evaluation is refused rather than started with a deadline it would miss. */
const MIN_START_MS = 20;

/** Not the script's fault: no interpreter is ready, or all callers' script time for this second is spent. A 503. */
function unavailable(why: string): DaptinError {
  return new DaptinError("unavailable", "JavaScript sandbox busy", { detail: `${why}; retry in 1 s`, retryAfter: 1 });
}

const BUSY = `the JavaScript sandbox is busy (the scripts of all callers together may run ${LIMITS.windowTimeMs} ms per second)`;

/** This client's calls spent their share of script time for this second: a 429. */
function clientLimited(): DaptinError {
  return new DaptinError("rate_limited", "Too much script time", {
    detail: `the scripts of your calls may run ${LIMITS.clientTimeMs} ms per second in all; retry in 1 s`, retryAfter: 1,
  });
}

/** In the compiled executable every file lives in Bun's embedded file system, under the build's root (src/). */
const COMPILED = import.meta.url.startsWith("file:///$bunfs/");

function brokerUrl(): string {
  // build.ts embeds the broker as its own entry point; it keeps its path under src/, with a .js extension.
  return COMPILED ? "/$bunfs/root/engine/actions/sandbox/broker.js" : new URL("./sandbox/broker.ts", import.meta.url).href;
}

function childCommand(): ChildCommand {
  // The compiled executable becomes an interpreter process when DAPTIN_SANDBOX_CHILD is set (src/cli/entry.ts).
  const env = { DAPTIN_SANDBOX_CHILD: "1" };
  if (COMPILED) return { cmd: [process.execPath], env };
  return { cmd: [process.execPath, fileURLToPath(new URL("./sandbox/child.ts", import.meta.url))], env };
}

/** An interpreter process starts in about 100 ms; this only bounds a wait for one that never comes. */
const START_TIMEOUT_MS = 15_000;

interface Answer {
  status: StatusCode;
  text: string;
  /** UTF-8 bytes of the text. */
  bytes: number;
}

/** The server thread's end of the broker: start it, send jobs, wait for answers. */
class Sandbox {
  private readonly worker: Worker;
  private readonly header: Int32Array;
  private readonly body: Uint8Array;
  private readonly decoder = new TextDecoder();
  private nextId = 0;
  private waiting: { resolve: () => void; reject: (e: Error) => void }[] = [];
  failed = false;

  constructor() {
    const answers = new SharedArrayBuffer(ANSWER_BUFFER_BYTES);
    this.header = new Int32Array(answers, 0, HEADER_BYTES / 4);
    this.body = new Uint8Array(answers, HEADER_BYTES);
    // Unreferenced: the broker and its processes never keep a finished CLI command alive.
    this.worker = new Worker(brokerUrl(), { ref: false });
    this.worker.onmessage = (e: MessageEvent<FromBroker>) => {
      // A "ready" sent before the server's last job may arrive after it: only the count says what is true now.
      if (e.data.kind === "ready") {
        if (this.idle()) this.settle();
      } else this.settle(new Error(e.data.message));
    };
    this.worker.onerror = (e) => {
      this.failed = true;
      this.worker.terminate();
      this.settle(new Error(`the JavaScript sandbox failed: ${e.message}`));
    };
    this.post({ kind: "start", answers, child: childCommand() });
  }

  private post(m: ToBroker): void {
    this.worker.postMessage(m);
  }

  private settle(error?: Error): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) error ? w.reject(error) : w.resolve();
    this.worker.unref();
  }

  private idle(): boolean {
    return Atomics.load(this.header, Slot.idle) > 0;
  }

  /** Resolves once an interpreter process is idle. */
  async ready(): Promise<void> {
    if (this.idle()) return;
    // Referenced while someone waits, or a CLI command could end before its sandbox is up.
    this.worker.ref();
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.waiting.push({ resolve, reject });
        timer = setTimeout(() => reject(new Error(`the JavaScript sandbox did not start within ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  submit(code: string, context: string): number {
    const id = ++this.nextId;
    this.post({ kind: "job", id, code, context });
    return id;
  }

  /** Blocks until the answer to job `id` is in, or `deadline` (performance.now()) passes: then undefined. */
  waitSync(id: number, deadline: number): Answer | undefined {
    for (;;) {
      const done = Atomics.load(this.header, Slot.done);
      if (done === id) break;
      const remaining = deadline - performance.now();
      if (remaining <= 0) return undefined;
      Atomics.wait(this.header, Slot.done, done, remaining);
    }
    const length = this.header[Slot.length]!;
    return { status: this.header[Slot.status] as StatusCode, text: this.decoder.decode(this.body.subarray(0, length)), bytes: length };
  }

  /** Whether job `id` reached an interpreter (a job that did not was waiting for a process to start). */
  started(id: number): boolean {
    return Atomics.load(this.header, Slot.started) === id;
  }

  /** The server stopped waiting for job `id`: its process is killed (a warm one takes over). */
  abandon(id: number): void {
    this.post({ kind: "abandon", id });
  }
}

let sandbox: Sandbox | undefined;

/** Starts the sandbox (a worker and two interpreter processes) before the first action that uses JavaScript. */
export async function loadSandbox(): Promise<void> {
  if (!sandbox || sandbox.failed) sandbox = new Sandbox();
  await sandbox.ready();
}

const MiB = 1048576;

/** Whether `value` nests arrays and objects deeper than `limit` (walked without recursion). */
function deeperThan(value: JsonValue, limit: number): boolean {
  const stack: JsonValue[] = [value];
  const depths: number[] = [0];
  while (stack.length > 0) {
    const v = stack.pop()!;
    const depth = depths.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= limit) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === "object") {
        stack.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

function contextJson(code: string, context: Record<string, JsonValue>): string {
  // Checked first: JSON.stringify of a value nested some 40,000 deep (a request body can be) spends seconds before
  // it gives up with a stack overflow.
  if (deeperThan(context, LIMITS.depth)) {
    throw new ScriptError(`the script's context is nested deeper than ${LIMITS.depth} levels`);
  }
  const json = JSON.stringify(context);
  if (Buffer.byteLength(json) + Buffer.byteLength(code) > LIMITS.contextBytes) {
    throw new ScriptError(`the script and its context are larger than ${LIMITS.contextBytes / MiB} MiB`);
  }
  return json;
}

/**
 * Evaluates `code` (an expression or a script; its last value is the result) with `context` as globals. Blocks
 * for at most HARD_WAIT_MS; `budget` is the action call's, shared by all its evaluations. A ScriptError is the
 * script's own failure (a 400); when the server cannot run it now the error is a 503 to retry.
 */
export function runScript(code: string, context: Record<string, JsonValue>, budget: ScriptBudget): JsonValue {
  if (!sandbox) throw new ScriptError("the JavaScript sandbox is not loaded");
  const callLimit = `the action's scripts ran longer than ${LIMITS.callTimeMs} ms in total`;
  const resultLimit = `the action's script results are larger than ${LIMITS.callResultBytes / MiB} MiB in total`;
  if (budget.remainingMs() <= 0) throw new ScriptError(callLimit);
  if (budget.overResults()) throw new ScriptError(resultLimit);
  const start = performance.now();
  const mine = windowOf(budget.client, start);
  const ours = everyone.remainingMs(start);
  const room = Math.min(ours, mine.remainingMs(start));
  if (ours < MIN_START_MS) throw unavailable(BUSY);
  if (room < MIN_START_MS) throw clientLimited();
  // What ends the wait: the evaluation's own limit, the call's, or a window's (then the time is others' to use).
  const wait = Math.min(HARD_WAIT_MS, budget.remainingMs(), room);
  const cause = wait === HARD_WAIT_MS ? "script" : wait === budget.remainingMs() ? "call" : wait === ours ? "everyone" : "client";
  try {
    const id = sandbox.submit(code, contextJson(code, context));
    const answer = sandbox.waitSync(id, start + wait);
    if (!answer) {
      const started = sandbox.started(id);
      sandbox.abandon(id);
      if (!started) throw unavailable("the JavaScript sandbox is restarting");
      if (cause === "everyone") throw unavailable(BUSY);
      if (cause === "client") throw clientLimited();
      throw new ScriptError(cause === "call" ? callLimit : `the script ran longer than ${LIMITS.timeMs} ms`);
    }
    if (answer.status !== Status.ok) throw new ScriptError(answer.text);
    if (!budget.produce(answer.bytes)) throw new ScriptError(resultLimit);
    return JSON.parse(answer.text) as JsonValue;
  } finally {
    const end = performance.now();
    budget.spend(end - start);
    mine.spend(end, end - start);
    everyone.spend(end, end - start);
  }
}
