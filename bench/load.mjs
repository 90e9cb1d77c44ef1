// One load run with autocannon (run under Node so the load generator is not the runtime under test).
// Usage: node bench/load.mjs SPEC.json  ->  prints one JSON line with the result.
// spec: {url, path, method, connections, duration, warmup, headers, body, ids, idMode: "rotate"|"consume"}
//   or {url, connections, duration, headers, ids, mix: [{path, method, body}, ...]}: each connection cycles through the
//   mix (the soak's blend of reads and writes).
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

const spec = JSON.parse(readFileSync(process.argv[2], "utf8"));
const ids = spec.ids ?? [];
let next = 0;

function request(one) {
  // A fresh headers object per request: autocannon writes content-length into it.
  // __N__: a new number each time; {page}: pages 1 to 500 in turn.
  const path = one.path.replace(/__N__/g, () => String(next++)).replace("{page}", () => String(1 + (next++ % 500)));
  const req = { method: one.method ?? "GET", path, headers: { ...spec.headers } };
  if (one.path.includes("{id}")) {
    const id = spec.idMode === "consume" ? ids[next++] : ids[next++ % ids.length];
    req.path = one.path.replace("{id}", id ?? "00000000-0000-0000-0000-000000000000");
  }
  // Explicitly no body otherwise: in a mix, a GET must not inherit the previous POST's body.
  req.body = one.body === undefined ? undefined : JSON.stringify(one.body).replace(/__N__/g, String(next++));
  return req;
}

/** Resolves with autocannon's result and the time its last response arrived (performance.now()). */
function run(duration, amount) {
  let last = performance.now();
  const instance = autocannon({
    url: spec.url,
    connections: spec.connections,
    ...(amount ? { amount } : { duration }),
    requests: (spec.mix ?? [spec]).map((one) => ({ setupRequest: (r) => ({ ...r, ...request(one) }) })),
  });
  instance.on("response", () => (last = performance.now()));
  return instance.then((r) => ({ r, last }));
}

// A run over consumable ids (deletes) is a fixed number of requests instead of a duration.
if (spec.warmup > 0 && !spec.amount) await run(spec.warmup);
const started = performance.now();
const { r, last } = await run(spec.duration, spec.amount);
console.log(JSON.stringify({
  // autocannon's average is per whole second, and a fixed-count run only ends at its next one-second tick: such a
  // run (a few seconds) is divided by the time from its start to its last response instead.
  rps: spec.amount ? r.requests.total / ((last - started) / 1000) : r.requests.average,
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: r.errors + r.timeouts + r.non2xx,
  total: r.requests.total,
}));
