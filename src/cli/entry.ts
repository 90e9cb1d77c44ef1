// Entry point of the compiled executable. The process ends when its work is done (no process.exit: that would
// cut off output still being written to a pipe); main() sets process.exitCode.
// The same executable is the JavaScript sandbox's interpreter process when the server starts it as one.
export {};
if (process.env.DAPTIN_SANDBOX_CHILD === "1") await import("../engine/actions/sandbox/child.ts");
else await (await import("./main.ts")).main(process.argv);
