// What the three parts of the JavaScript sandbox say to each other: the server's thread (sandbox.ts), the broker
// worker that owns the interpreter processes (broker.ts), and an interpreter process (child.ts).
//
//   server thread --postMessage(job)--> broker --IPC--> child: QuickJS
//   server thread <--shared memory----- broker <--IPC-- child
//
// The answer comes back through a SharedArrayBuffer so the server thread can wait for it synchronously
// (Atomics.wait with a deadline); an asynchronous caller would wait on the same slot with Atomics.waitAsync.

const MiB = 1024 * 1024;

/** The limits of one evaluation (docs/actions.md, "Expressions"). */
export const LIMITS = {
  /** Wall-clock time of one evaluation, setup included. */
  timeMs: 100,
  /** The interpreter's heap. */
  memoryBytes: 32 * MiB,
  /** The script's own stack (deep recursion is a "stack overflow" script error). */
  stackBytes: 512 * 1024,
  /** The script plus its context (in-fields, attributes, subject, user, earlier results) as UTF-8 JSON. */
  contextBytes: 4 * MiB,
  /** The result as UTF-8 JSON. */
  resultBytes: 2 * MiB,
  /** Nesting of arrays and objects in the context and in the result (deeper values break JSON handling). */
  depth: 1000,
  /** All evaluations of one action call together: the server is blocked while its synchronous outcomes run. */
  callTimeMs: 200,
  /** All evaluations of one client address's calls within any second (`windowMs`). Past it: a 429. */
  clientTimeMs: 200,
  /**
   * All evaluations of all callers within any second: the server thread waits for scripts at most this long per
   * second, however many clients call scripted actions at once (sandbox/shares.ts). Past it: a 503.
   */
  windowTimeMs: 400,
  windowMs: 1000,
  /** The results of all evaluations of one action call together, as UTF-8 JSON. */
  callResultBytes: 8 * MiB,
} as const;

/** How long the server thread waits for an answer before it gives up and has the process killed. */
export const HARD_WAIT_MS = LIMITS.timeMs + 30;

export const Status = {
  ok: 0,
  /** The script threw, or its result is not acceptable: the text is the message. */
  scriptError: 1,
  timeout: 2,
  memory: 3,
  tooLarge: 4,
  /** The interpreter process failed (crashed, or could not run the job). */
  broken: 5,
} as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

/** Int32 slots at the start of the answer buffer. */
export const Slot = {
  /** Id of the job whose answer is in the buffer (written last, then notified). */
  done: 0,
  status: 1,
  /** Bytes of UTF-8 text after the header. */
  length: 2,
  /** Id of the job last handed to an interpreter process (a job not started by the deadline was never run). */
  started: 3,
  /** How many interpreter processes are ready and idle (a process running an abandoned job does not count). */
  idle: 4,
} as const;
export const HEADER_BYTES = 32;
/** Error messages are cut to this; the buffer holds a full-size result or a message. */
export const MESSAGE_BYTES = 4096;
export const ANSWER_BUFFER_BYTES = HEADER_BYTES + Math.max(LIMITS.resultBytes, MESSAGE_BYTES);

/** How the broker starts an interpreter process. */
export interface ChildCommand {
  cmd: string[];
  env: Record<string, string>;
}

export type ToBroker =
  | { kind: "start"; answers: SharedArrayBuffer; child: ChildCommand }
  | { kind: "job"; id: number; code: string; context: string }
  /** The server stopped waiting for this job: its process is killed unless it answers within a grace period. */
  | { kind: "abandon"; id: number };

export type FromBroker =
  /** An interpreter process is idle again after none was. */
  | { kind: "ready" }
  /** Interpreter processes cannot be started. */
  | { kind: "failed"; message: string };

export interface ChildJob {
  id: number;
  code: string;
  context: string;
}

export type FromChild =
  | { kind: "ready" }
  | { kind: "answer"; id: number; status: StatusCode; text: string; /** This process must not run another job. */ retire: boolean };
