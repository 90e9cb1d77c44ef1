// A server whose writes failed on a hashed value still shuts down cleanly: no promise is left to reject unobserved.
import { expect, test } from "bun:test";
import { api, startServer } from "../helpers/daptin.ts";

test("writes refused while a password was being hashed leave no unhandled rejection; SIGTERM exits 0", async () => {
  const s = await startServer();
  const post = (attributes: Record<string, unknown>) => api(s, "POST", "/api/user_account", { data: { type: "user_account", attributes } });
  // The password's (failing) hash is still pending when another error is thrown: required attributes missing,
  // a later attribute refused.
  const refused = [
    await post({ password: 0 }),
    await post({ password: 0, name: "n", email: { toString: 1 } }),
    await post({ password: ["x"], name: "n" }),
  ];
  expect(refused.map((r) => r.status)).toEqual([422, 422, 422]);
  // The error that is awaited still reaches the client.
  expect((await post({ password: 0, name: "n", email: "n@example.com" })).body.errors[0].detail).toBe("password must be text, not a number");
  // Rejections surface on the next turns of the event loop: give them time before stopping.
  await Bun.sleep(300);
  expect((await api(s, "GET", "/ping")).text).toBe("pong");
  const code = await s.stop("SIGTERM");
  // Before: the log held "error: Validation failed: password must be text, not a number" and the exit code was 1.
  expect(s.log()).not.toContain("password must be text");
  expect(s.log()).not.toMatch(/unhandled/i);
  expect(code).toBe(0);
});
