// One load run with autocannon (run under Node so the load generator is not the runtime under test).
// Usage: node bench/load.mjs '<json spec>'  ->  prints one JSON line with the result.
// spec: {url, path, method, connections, duration, warmup, headers, body, ids, idMode: "rotate"|"consume", bodyTemplate}
import autocannon from "autocannon";

const spec = JSON.parse(process.argv[2]);
const ids = spec.ids ?? [];
let next = 0;

function request() {
  const req = { method: spec.method ?? "GET", path: spec.path, headers: spec.headers ?? {} };
  if (spec.path.includes("{id}")) {
    const id = spec.idMode === "consume" ? ids[next++] : ids[next++ % ids.length];
    req.path = spec.path.replace("{id}", id ?? "00000000-0000-0000-0000-000000000000");
  }
  if (spec.body !== undefined) req.body = JSON.stringify(spec.body).replace(/__N__/g, String(next++));
  return req;
}

async function run(duration) {
  return autocannon({
    url: spec.url,
    connections: spec.connections,
    duration,
    requests: [{ setupRequest: (r) => ({ ...r, ...request() }) }],
  });
}

if (spec.warmup > 0) await run(spec.warmup);
const r = await run(spec.duration);
console.log(JSON.stringify({
  rps: r.requests.average,
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: r.errors + r.timeouts + r.non2xx,
  total: r.requests.total,
}));
