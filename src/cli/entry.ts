// Entry point of the compiled executable. The process ends when its work is done (no process.exit: that would
// cut off output still being written to a pipe); main() sets process.exitCode.
// The same executable is the JavaScript sandbox's interpreter process when the server starts it as one. main.ts is
// imported statically even so: loaded through a dynamic import, the server answered ~15% fewer requests a second
// (GET by id, compiled: 51k vs 60k req/s on this machine); the interpreter processes pay ~6 MB each for it.
import { main } from "./main.ts";

if (process.env.DAPTIN_SANDBOX_CHILD === "1") await import("../engine/actions/sandbox/child.ts");
else await main(process.argv);
