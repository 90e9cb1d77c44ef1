// One evaluation in QuickJS compiled to WebAssembly: a fresh runtime per job (nothing one caller's script leaves
// behind reaches the next), no host capability except the helpers below, the time, memory and stack limits of
// protocol.ts. Runs in an interpreter process (child.ts), never in the server.
import type { QuickJSContext, QuickJSHandle, QuickJSWASMModule } from "quickjs-emscripten-core";
import { createHash, createHmac } from "node:crypto";
import { newReferenceId } from "../../data/ids.ts";
import { type ChildJob, LIMITS, MESSAGE_BYTES, Status, type StatusCode } from "./protocol.ts";

export async function loadInterpreter(): Promise<QuickJSWASMModule> {
  const [{ newQuickJSWASMModuleFromVariant }, { default: variant }] = await Promise.all([
    import("quickjs-emscripten-core"),
    import("@jitl/quickjs-singlefile-mjs-release-sync"),
  ]);
  return newQuickJSWASMModuleFromVariant(variant);
}

const digest = (alg: string) => (data: string) => createHash(alg).update(data).digest("hex");
const mac = (alg: string) => (key: string, data: string) => createHmac(alg, key).update(data).digest("hex");
const HOST_HELPERS: Record<string, (...args: string[]) => string> = {
  SHA256Hash: digest("sha256"),
  SHA512Hash: digest("sha512"),
  MD5Hash: digest("md5"),
  HMACSHA256: mac("sha256"),
  HMACSHA512: mac("sha512"),
  HexEncode: (s) => Buffer.from(s, "utf8").toString("hex"),
  HexDecode: (s) => Buffer.from(s, "hex").toString("utf8"),
  URLEncode: (s) => Buffer.from(s, "utf8").toString("base64url"),
  URLDecode: (s) => Buffer.from(s, "base64url").toString("utf8"),
  Base64Encode: (s) => Buffer.from(s, "utf8").toString("base64"),
  Base64Decode: (s) => Buffer.from(s, "base64").toString("utf8"),
  uuid: () => newReferenceId(),
};

/**
 * Helper functions every expression sees (spec 40 section 3.4), written in JavaScript inside the sandbox; then
 * the context (sent as JSON text in `__context`) becomes globals, one per key that is a JavaScript name.
 */
const SETUP = `
const ToJson = (v) => JSON.stringify(v);
const FromJson = (s) => JSON.parse(String(s));
const ToString = (v) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
const __b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
function btoa(input) {
  const s = unescape(encodeURIComponent(String(input)));
  let out = "";
  for (let i = 0; i < s.length; i += 3) {
    const a = s.charCodeAt(i), b = s.charCodeAt(i + 1), c = s.charCodeAt(i + 2);
    const n = (a << 16) | ((b || 0) << 8) | (c || 0);
    out += __b64[(n >> 18) & 63] + __b64[(n >> 12) & 63] + (i + 1 < s.length ? __b64[(n >> 6) & 63] : "=") + (i + 2 < s.length ? __b64[n & 63] : "=");
  }
  return out;
}
function atob(input) {
  try {
    const s = String(input).replace(/[^A-Za-z0-9+/]/g, "");
    let bytes = "";
    for (let i = 0; i < s.length; i += 4) {
      const n = (__b64.indexOf(s[i]) << 18) | (__b64.indexOf(s[i + 1]) << 12) | ((__b64.indexOf(s[i + 2]) & 63) << 6) | (__b64.indexOf(s[i + 3]) & 63);
      bytes += String.fromCharCode((n >> 16) & 255);
      if (s[i + 2] !== undefined) bytes += String.fromCharCode((n >> 8) & 255);
      if (s[i + 3] !== undefined) bytes += String.fromCharCode(n & 255);
    }
    return decodeURIComponent(escape(bytes));
  } catch (e) { return ""; }
}
(() => {
  const ctx = JSON.parse(globalThis.__context);
  delete globalThis.__context;
  for (const k of Object.keys(ctx)) if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k)) globalThis[k] = ctx[k];
})();
`;

export interface Outcome {
  status: StatusCode;
  /** The result as JSON text, or the message. */
  text: string;
  /** The interpreter failed in a way that may have corrupted it: the process must not run another job. */
  broken: boolean;
}

const MEMORY_MESSAGE = `the script used more than ${LIMITS.memoryBytes / 1048576} MiB of memory`;
const TIME_MESSAGE = `the script ran longer than ${LIMITS.timeMs} ms`;
const TOO_LARGE: Outcome = { status: Status.tooLarge, text: `the script's result is larger than ${LIMITS.resultBytes / 1048576} MiB`, broken: false };

const cut = (s: string) => (s.length > MESSAGE_BYTES / 4 ? `${s.slice(0, MESSAGE_BYTES / 4)}...` : s);

/** A QuickJS exception as an outcome; QuickJS reports its interrupt and allocation failures by message. */
function failure(error: unknown, prefix = ""): Outcome {
  const message = String((error as { message?: unknown } | null)?.message ?? error);
  if (message === "interrupted") return { status: Status.timeout, text: TIME_MESSAGE, broken: false };
  if (message === "out of memory") return { status: Status.memory, text: MEMORY_MESSAGE, broken: false };
  return { status: Status.scriptError, text: cut(prefix + message), broken: false };
}

/** Nesting depth of JSON text (brackets outside strings). */
function depthOf(json: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 91 || c === 123) max = Math.max(max, ++depth);
    else if (c === 93 || c === 125) depth--;
  }
  return max;
}

function evaluate(vm: QuickJSContext, job: ChildJob, late: () => boolean): Outcome {
  // Host helpers respect the deadline too: a loop of slow helper calls stops at the limit, not 10,000 calls later
  // when QuickJS next polls its interrupt handler.
  for (const [name, fn] of Object.entries(HOST_HELPERS)) {
    const h = vm.newFunction(name, (...args) => {
      if (late()) throw new Error("interrupted");
      return vm.newString(fn(...args.map((a) => String(vm.dump(a) ?? ""))));
    });
    vm.setProp(vm.global, name, h);
    h.dispose();
  }
  // Taken before the script runs: a script that replaces JSON.stringify must not decide what JSON comes out.
  const stringify = vm.evalCode("JSON.stringify");
  if (stringify.error) return failure(stringify.error.consume((e) => vm.dump(e)));
  return stringify.value.consume((f) => evaluateWith(vm, job, f));
}

function evaluateWith(vm: QuickJSContext, job: ChildJob, stringify: QuickJSHandle): Outcome {
  const context = vm.newString(job.context);
  vm.setProp(vm.global, "__context", context);
  context.dispose();
  const prep = vm.evalCode(SETUP);
  if (prep.error) return failure(prep.error.consume((e) => vm.dump(e)), "could not prepare the script context: ");
  prep.value.dispose();
  const result = vm.evalCode(`(function () { "use strict"; return (0, eval)(${JSON.stringify(job.code)}); })()`);
  if (result.error) return failure(result.error.consume((e) => vm.dump(e)));
  const text = result.value.consume((value) => resultJson(vm, value, stringify));
  if (typeof text !== "string") return text;
  if (Buffer.byteLength(text) > LIMITS.resultBytes) return TOO_LARGE;
  if (text.length > 2 * LIMITS.depth && depthOf(text) > LIMITS.depth) {
    return { status: Status.tooLarge, text: `the script's result is nested deeper than ${LIMITS.depth} levels`, broken: false };
  }
  return { status: Status.ok, text, broken: false };
}

/**
 * The result as JSON text. A string is quoted by the host: QuickJS's JSON.stringify takes tens of milliseconds per
 * MiB of string, which would put a text of a few MiB over the time limit before its size could be checked.
 */
function resultJson(vm: QuickJSContext, value: QuickJSHandle, stringify: QuickJSHandle): string | Outcome {
  if (vm.typeof(value) === "string") {
    // Characters never outnumber UTF-8 bytes: a string longer than the limit is too large without copying it out.
    if (vm.getProp(value, "length").consume((l) => vm.getNumber(l)) > LIMITS.resultBytes) return TOO_LARGE;
    return JSON.stringify(vm.getString(value));
  }
  const json = vm.callFunction(stringify, vm.undefined, value);
  if (json.error) return failure(json.error.consume((e) => vm.dump(e)));
  // JSON.stringify answers undefined for undefined and functions: the result is null.
  return json.value.consume((j) => (vm.typeof(j) === "string" ? vm.getString(j) : "null"));
}

/**
 * WebAssembly is compiled as it first runs: a cold interpreter takes ~40 ms for `1 + 1`. Warmed before a process
 * says it is ready, so the first real script (after a kill, the replacement's) is not the one that pays for it.
 */
export function warmUp(module: QuickJSWASMModule): void {
  const job: ChildJob = {
    id: 0,
    code: "let o = {n: [1, 2], s: SHA256Hash(title) + btoa(title), t: 'ab'.repeat(5000)}; for (let i = 0; i < 200; i++) o.n.push(i * 2); " +
      "/b+a/.test(o.t) && o.t.indexOf('x') < 0 ? [FromJson(ToJson(o)).n.length, o.t.toUpperCase()] : null",
    context: JSON.stringify({ title: "warm-up", attributes: { title: "warm-up", n: 1 } }),
  };
  for (let i = 0; i < 5; i++) run(module, job);
}

/** Runs one job. Never throws: an interpreter failure is an outcome that marks the interpreter broken. */
export function run(module: QuickJSWASMModule, job: ChildJob): Outcome {
  const deadline = Date.now() + LIMITS.timeMs;
  const late = () => Date.now() > deadline;
  let outcome: Outcome | undefined;
  try {
    const runtime = module.newRuntime();
    try {
      runtime.setMemoryLimit(LIMITS.memoryBytes);
      runtime.setMaxStackSize(LIMITS.stackBytes);
      runtime.setInterruptHandler(late);
      const vm = runtime.newContext();
      try {
        outcome = evaluate(vm, job, late);
      } finally {
        vm.dispose();
      }
    } finally {
      runtime.dispose();
    }
  } catch (e) {
    // An abort inside the WebAssembly module (QuickJS asserts, for one, when a runtime whose script overflowed the
    // stack in JSON.stringify is freed): the module's state is lost.
    // The details (an emscripten "Aborted(...)" line) are on the process's stderr, in the server's log.
    if (outcome) return { ...outcome, broken: true };
    return { status: Status.scriptError, text: "the script broke the interpreter (an internal QuickJS failure, as deep nesting causes)", broken: true };
  }
  return outcome;
}
