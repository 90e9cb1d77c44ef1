// Schema uploads at scale (issue 11): time `upload_system_schema` with N generated tables through HTTP while /ping
// is probed every 10 ms, and report the longest /ping wait. Not part of `npm test`.
//   bun bench/schema-scale.ts [N ...]        (default 100 1000 3000; DAPTIN_CMD overrides the server command)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const CMD = process.env.DAPTIN_CMD?.split(" ") ?? [process.execPath, join(ROOT, "bin/daptin")];

export function generatedSchema(n: number, prefix = "gen"): string {
  const lines = ["Tables:"];
  for (let i = 0; i < n; i++) {
    lines.push(`  - TableName: ${prefix}_${i}`, "    Columns:",
      "      - {Name: title, ColumnType: label, DataType: varchar(100), IsIndexed: true}",
      "      - {Name: amount, ColumnType: measurement, DataType: int(11), IsNullable: true}");
  }
  return `${lines.join("\n")}\n`;
}

async function start(dir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const proc = Bun.spawn([...CMD, "serve", "--port", "0", "--host", "127.0.0.1", "--db", join(dir, "daptin.db")], { cwd: dir, stderr: "pipe", stdout: "ignore" });
  const reader = proc.stderr.getReader();
  let log = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited: ${log}`);
    log += new TextDecoder().decode(value);
    const m = /Listening at port: :(\d+)/.exec(log);
    if (m) {
      (async () => { for (;;) if ((await reader.read()).done) break; })();
      return { url: `http://127.0.0.1:${m[1]}`, stop: async () => { proc.kill(); await proc.exited; } };
    }
  }
}

/** Uploads N tables; returns the upload's time and the longest /ping round trip while it ran. */
export async function measure(url: string, n: number, prefix = "gen", headers: Record<string, string> = {}): Promise<{ ms: number; maxPing: number; status: number }> {
  const body = JSON.stringify({ attributes: { schema_file: [{ name: `schema_${prefix}.yaml`, file: Buffer.from(generatedSchema(n, prefix)).toString("base64") }] } });
  let running = true;
  let maxPing = 0;
  const pinger = (async () => {
    while (running) {
      const t = performance.now();
      await fetch(`${url}/ping`);
      maxPing = Math.max(maxPing, performance.now() - t);
      await Bun.sleep(10);
    }
  })();
  const t = performance.now();
  const r = await fetch(`${url}/action/world/upload_system_schema`, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body, timeout: false });
  await r.text();
  const ms = performance.now() - t;
  running = false;
  await pinger;
  return { ms, maxPing, status: r.status };
}

if (import.meta.main) {
  const sizes = process.argv.slice(2).map(Number);
  for (const n of sizes.length ? sizes : [100, 1000, 3000]) {
    const dir = mkdtempSync(join(tmpdir(), "daptin-scale-"));
    const s = await start(dir);
    const m = await measure(s.url, n);
    console.log(`${n} tables: HTTP ${m.status} in ${Math.round(m.ms)} ms, longest /ping ${Math.round(m.maxPing)} ms`);
    await s.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
