// JavaScript in action expressions (`!js`, `{{js}}`, `js:`) runs in QuickJS compiled to WebAssembly: no access to
// the host (no Bun, no process, no environment, no secrets), a time limit and a memory limit per evaluation. The
// context goes in as JSON and the result comes out as JSON.
import type { QuickJSWASMModule } from "quickjs-emscripten-core";
import { createHash, createHmac } from "node:crypto";
import type { JsonValue } from "../schema/column-types/index.ts";

const JS_TIME_LIMIT_MS = 100;
const JS_MEMORY_LIMIT = 32 * 1024 * 1024;

let module: QuickJSWASMModule | undefined;

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
};

/** Loads the WebAssembly module once (about 60 ms), before the first action whose outcomes use JavaScript. */
export async function loadSandbox(): Promise<void> {
  if (module) return;
  // Loaded on first use: a server that never runs an action does not pay for the interpreter's memory.
  const [{ newQuickJSWASMModuleFromVariant }, { default: variant }] = await Promise.all([
    import("quickjs-emscripten-core"),
    import("@jitl/quickjs-singlefile-mjs-release-sync"),
  ]);
  module ??= await newQuickJSWASMModuleFromVariant(variant);
}

export class ScriptError extends Error {}

/** Helper functions every expression sees (spec 40 section 3.4), written in JavaScript inside the sandbox. */
const PRELUDE = `
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
`;

/** Evaluates `code` (an expression or a script; its last value is the result) with `context` as globals. */
export function runScript(code: string, context: Record<string, JsonValue>, uuid: () => string): JsonValue {
  if (!module) throw new ScriptError("the JavaScript sandbox is not loaded");
  const runtime = module.newRuntime();
  runtime.setMemoryLimit(JS_MEMORY_LIMIT);
  runtime.setMaxStackSize(512 * 1024);
  const deadline = Date.now() + JS_TIME_LIMIT_MS;
  runtime.setInterruptHandler(() => Date.now() > deadline);
  const vm = runtime.newContext();
  try {
    const uuidFn = vm.newFunction("uuid", () => vm.newString(uuid()));
    vm.setProp(vm.global, "uuid", uuidFn);
    uuidFn.dispose();
    // Digests and MACs from the host's crypto: text in, hex text out; no other host capability crosses over.
    for (const [name, fn] of Object.entries(HOST_HELPERS)) {
      const h = vm.newFunction(name, (...args) => vm.newString(fn(...args.map((a) => String(vm.dump(a) ?? "")))));
      vm.setProp(vm.global, name, h);
      h.dispose();
    }
    const names = Object.keys(context).filter((k) => /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(k));
    const setup = `${PRELUDE}\nconst __ctx = ${JSON.stringify(context)};\n` +
      names.map((n) => `var ${n} = __ctx[${JSON.stringify(n)}];`).join("\n");
    const prep = vm.evalCode(setup);
    if (prep.error) {
      const e = vm.dump(prep.error);
      prep.error.dispose();
      throw new ScriptError(`could not prepare the script context: ${e?.message ?? e}`);
    }
    prep.value.dispose();
    const result = vm.evalCode(`(function () { "use strict"; return JSON.stringify((0, eval)(${JSON.stringify(code)})); })()`);
    if (result.error) {
      const e = vm.dump(result.error);
      result.error.dispose();
      const message = e?.message === "interrupted" ? `the script ran longer than ${JS_TIME_LIMIT_MS} ms` : String(e?.message ?? e);
      throw new ScriptError(message);
    }
    const text = vm.dump(result.value) as string | undefined;
    result.value.dispose();
    return text === undefined ? null : (JSON.parse(text) as JsonValue);
  } finally {
    vm.dispose();
    runtime.dispose();
  }
}
