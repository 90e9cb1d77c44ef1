// Compiles the CLI (and with it the engine, the server and the embedded system schema) into one executable.
import { mkdirSync } from "node:fs";

const outfile = process.env.DAPTIN_BUILD_OUT ?? "dist/daptin";
mkdirSync("dist", { recursive: true });
const result = await Bun.build({
  entrypoints: ["./src/cli/entry.ts"],
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
