// Entry point of the compiled executable.
import { main } from "./main.ts";

await main(process.argv);
process.exit(process.exitCode ?? 0);
