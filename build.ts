// Compiles the CLI (and with it the engine, the server and the embedded system schema) into one executable.
import { mkdirSync } from "node:fs";

const outfile = process.env.DAPTIN_BUILD_OUT ?? "dist/daptin";
mkdirSync("dist", { recursive: true });
const result = await Bun.build({
  // The sandbox's broker runs as a worker, so it is an entry point of its own; with the root at src/ it is embedded
  // at /$bunfs/root/engine/actions/sandbox/broker.js, where src/engine/actions/sandbox.ts looks for it.
  entrypoints: ["./src/cli/entry.ts", "./src/engine/actions/sandbox/broker.ts"],
  root: "./src",
  compile: { outfile },
  minify: true,
  splitting: true,
  sourcemap: "none",
  target: "bun",
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile}`);
