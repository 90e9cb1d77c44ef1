// The line of password checks (identity/users.ts): as many checks at once as there are cores, the rest wait their
// turn in order of arrival, at most 400 ms, then a 503 to retry, with no bcrypt work spent on them.
import { expect, test } from "bun:test";
import { availableParallelism } from "node:os";
import { DaptinError } from "../../src/engine/errors.ts";
import { checkPassword, inCheckLine } from "../../src/engine/identity/users.ts";

test("a check that gets no place within 400 ms is a 503 with Retry-After; a freed place goes to the next in line", async () => {
  const releases: (() => void)[] = [];
  const holders = Array.from({ length: Math.max(1, availableParallelism()) }, () => inCheckLine(() => new Promise<void>((r) => releases.push(r))));
  await Bun.sleep(0);
  const t = performance.now();
  let ran = false;
  const refused = await inCheckLine(async () => {
    ran = true;
  }).catch((e: unknown) => e);
  const waited = performance.now() - t;
  expect(refused).toBeInstanceOf(DaptinError);
  expect(refused).toMatchObject({ kind: "unavailable", retryAfter: 1, detail: "too many sign-ins are being checked at once; retry in 1 s" });
  expect(ran).toBe(false);
  expect(waited).toBeGreaterThanOrEqual(350);
  expect(waited).toBeLessThan(3000);
  // In order of arrival: the first waiter gets the first place freed.
  const order: string[] = [];
  const first = inCheckLine(async () => void order.push("first"));
  const second = inCheckLine(async () => void order.push("second"));
  releases.shift()!();
  await first;
  await second;
  expect(order).toEqual(["first", "second"]);
  for (const r of releases) r();
  await Promise.all(holders);
  // Places are all free again: a real check runs at once.
  const hash = await Bun.password.hash("pw", { algorithm: "bcrypt", cost: 4 });
  expect(await checkPassword("pw", hash)).toBe(true);
  expect(await checkPassword("nope", hash)).toBe(false);
});
