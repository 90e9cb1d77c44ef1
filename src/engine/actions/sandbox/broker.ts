// The broker: a worker thread that keeps interpreter processes (child.ts) ready, hands each job to an idle one,
// copies its answer into the shared buffer and wakes the server thread. It runs no script itself, so it stays
// responsive while a process is stuck; it kills a process whose job the server gave up on and starts another as soon
// as it gives up (not when the kill comes), so a warm one is always waiting and the server never pays a start-up.
import { setPriority } from "node:os";
import type { Subprocess } from "bun";
import {
  type ChildCommand, type ChildJob, type FromBroker, type FromChild, HEADER_BYTES, Slot, Status, type StatusCode,
  type ToBroker,
} from "./protocol.ts";

declare const self: Worker;

/** One process runs the job, one waits to replace it at once if it has to be killed (doomed ones do not count). */
const POOL = 2;
/** Processes that died before they were ready, in a row, before the broker waits a second and reports it. */
const MAX_FAILED_STARTS = 3;
/**
 * How long a process may go on with a job the server gave up on before it is killed. One that is merely slow (a
 * busy machine, or WebAssembly not yet compiled in a fresh process) answers within it and stays, warm; one stuck
 * in a single WebAssembly call does not, and dies.
 */
const ABANDON_GRACE_MS = 400;

interface Child {
  proc: Subprocess<"ignore", "ignore", "inherit">;
  ready: boolean;
  /** The job it is running. */
  job?: number;
  /** Set when the server gave up on the job: the kill that follows unless the process answers first. */
  doom?: ReturnType<typeof setTimeout>;
}

let command: ChildCommand;
let header: Int32Array;
let body: Uint8Array;
const children = new Set<Child>();
let queued: ChildJob | undefined;
let failedStarts = 0;
let retryTimer: ReturnType<typeof setTimeout> | undefined;
const encoder = new TextEncoder();

const post = (m: FromBroker) => self.postMessage(m);

/** Publishes how many processes are idle; the server waits for one before an action call's first script. */
function countIdle(): void {
  let n = 0;
  for (const c of children) if (c.ready && c.job === undefined) n++;
  const before = Atomics.exchange(header, Slot.idle, n);
  if (before === 0 && n > 0) post({ kind: "ready" });
}

function answer(id: number, status: StatusCode, text: string): void {
  const { read, written } = encoder.encodeInto(text, body);
  if (read < text.length) return answer(id, Status.broken, "the sandbox's answer does not fit its buffer");
  header[Slot.status] = status;
  header[Slot.length] = written;
  Atomics.store(header, Slot.done, id);
  Atomics.notify(header, Slot.done);
}

function dispatch(): void {
  if (!queued) return;
  for (const c of children) {
    if (!c.ready || c.job !== undefined) continue;
    c.job = queued.id;
    countIdle();
    Atomics.store(header, Slot.started, queued.id);
    c.proc.send(queued);
    queued = undefined;
    return;
  }
}

function kill(c: Child): void {
  if (!children.delete(c)) return;
  clearTimeout(c.doom);
  c.proc.kill("SIGKILL");
  countIdle();
  replenish();
}

/** Processes that are not doomed: the pool the broker keeps full. */
function live(): number {
  let n = 0;
  for (const c of children) if (c.doom === undefined) n++;
  return n;
}

/**
 * A doomed process gets the lowest scheduling priority: a script spinning until the kill must not take the CPU from
 * the server (on a machine with few cores it did, and every request waited).
 */
const DOOMED_NICE = 19;

/** Whether a doomed process that answered runs at normal priority again (lowering niceness may need privileges). */
function restorePriority(c: Child): boolean {
  try {
    setPriority(c.proc.pid, 0);
    return true;
  } catch {
    return false;
  }
}

function abandon(c: Child): void {
  if (c.doom) return;
  c.doom = setTimeout(() => kill(c), ABANDON_GRACE_MS);
  try {
    setPriority(c.proc.pid, DOOMED_NICE);
  } catch {
    // Already gone: its exit is on its way.
  }
  // Its replacement starts now: a caller looping a stuck script must not leave the next caller without a process.
  replenish();
}

function onMessage(c: Child, m: FromChild): void {
  if (!children.has(c)) return;
  if (m.kind === "ready") {
    c.ready = true;
    failedStarts = 0;
    countIdle();
  } else {
    if (c.job !== m.id) return;
    const abandoned = c.doom !== undefined;
    clearTimeout(c.doom);
    c.doom = undefined;
    // Counted idle before the server wakes, so its next wait for an idle process sees this one. A doomed process
    // that answered after all (it was slow, not stuck) stays if the pool has room and it gets its priority back.
    if (m.retire || (abandoned && (live() > POOL || !restorePriority(c)))) kill(c);
    else c.job = undefined;
    countIdle();
    // The answer to a job the server gave up on is dropped: the buffer may be holding a newer one.
    if (!abandoned) answer(m.id, m.status, m.text);
  }
  dispatch();
}

function onExit(c: Child): void {
  if (!children.delete(c)) return; // killed on purpose
  countIdle();
  // The server is still waiting for this job unless it gave up on it (then the buffer may hold a newer answer).
  if (c.job !== undefined && c.doom === undefined) answer(c.job, Status.broken, "the sandbox process stopped unexpectedly");
  clearTimeout(c.doom);
  if (!c.ready) failedStarts++;
  replenish();
}

function spawn(): void {
  const c = { ready: false } as Child;
  c.proc = Bun.spawn(command.cmd, {
    env: command.env,
    cwd: "/",
    stdio: ["ignore", "ignore", "inherit"],
    serialization: "advanced",
    ipc: (m: FromChild) => onMessage(c, m),
    onExit: () => onExit(c),
  });
  children.add(c);
}

function replenish(): void {
  if (retryTimer) return;
  if (failedStarts >= MAX_FAILED_STARTS) {
    post({ kind: "failed", message: `the JavaScript sandbox could not start its interpreter (${command.cmd.join(" ")})` });
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      failedStarts = 0;
      replenish();
    }, 1000);
    return;
  }
  while (live() < POOL) spawn();
  dispatch();
}

self.onmessage = (e: MessageEvent<ToBroker>) => {
  const m = e.data;
  switch (m.kind) {
    case "start":
      command = m.child;
      header = new Int32Array(m.answers, 0, HEADER_BYTES / 4);
      body = new Uint8Array(m.answers, HEADER_BYTES);
      replenish();
      break;
    case "job":
      queued = { id: m.id, code: m.code, context: m.context };
      // The server waits for one job at a time: a newer one means it gave up on any older one.
      for (const c of children) if (c.job !== undefined && c.job < m.id) abandon(c);
      dispatch();
      break;
    case "abandon":
      for (const c of children) if (c.job === m.id) abandon(c);
      if (queued?.id === m.id) queued = undefined;
      break;
  }
};
