// Entry point of the compiled executable. The process ends when its work is done (no process.exit: that would
// cut off output still being written to a pipe); main() sets process.exitCode.
import { main } from "./main.ts";

await main(process.argv);
