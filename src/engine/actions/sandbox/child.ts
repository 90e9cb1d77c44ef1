// An interpreter process: runs one job at a time for the broker (broker.ts) over IPC. It is a process, not a
// thread, so that it can be killed outright: a script stuck inside one WebAssembly call (a naive `indexOf` over a
// long string runs for minutes without returning to JavaScript) cannot be stopped any other way, and only a
// process's end gives its memory back for certain. Started with an empty environment; it opens no database.
import { type ChildJob, type FromChild, Status } from "./protocol.ts";
import { loadInterpreter, run, warmUp } from "./interpreter.ts";

/**
 * WebAssembly memory only grows: a process whose script ran out of memory, or that grew past this for any other
 * reason, retires after its answer and a fresh one takes over, so the memory goes back to the system.
 */
const RETIRE_RSS_BYTES = 160 * 1024 * 1024;

const send = process.send?.bind(process);
if (!send) {
  console.error("daptin: the sandbox process is started by the server, not by hand");
  process.exit(2);
}
// Without its server there is nothing to do: a server that died must not leave interpreters behind. The IPC
// channel closing says so, but only to an event loop that is free; a script stuck in WebAssembly blocks it, so a
// watchdog thread also checks that the parent is still the one that started this process.
process.on("disconnect", () => process.exit(0));
const WATCHDOG = `const parent = ${process.ppid};
setInterval(() => { if (process.ppid !== parent) process.kill(process.pid, "SIGKILL"); }, 500);`;
new Worker(URL.createObjectURL(new Blob([WATCHDOG], { type: "application/javascript" })));

const module = await loadInterpreter();
warmUp(module);
process.on("message", (job: ChildJob) => {
  const outcome = run(module, job);
  const retire = outcome.broken || outcome.status === Status.memory || process.memoryUsage.rss() > RETIRE_RSS_BYTES;
  send({ kind: "answer", id: job.id, status: outcome.status, text: outcome.text, retire } satisfies FromChild);
});
send({ kind: "ready" } satisfies FromChild);
