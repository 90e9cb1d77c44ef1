// The authentication throttle: attempts per account and per address, lock-outs with backoff, a bounded memory.
import { expect, test } from "bun:test";
import { DaptinError } from "../../src/engine/errors.ts";
import { GUEST, SYSTEM } from "../../src/engine/identity/identity.ts";
import { DEFAULT_THROTTLE, Throttle, throttleSettings } from "../../src/engine/identity/throttle.ts";

function clock() {
  let now = 1_000_000;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

const refusal = (f: () => unknown): DaptinError | undefined => {
  try {
    f();
  } catch (e) {
    if (e instanceof DaptinError) return e;
    throw e;
  }
  return undefined;
};

test("an account is locked after its limit, for a window that doubles at each repeat; success starts it afresh", () => {
  const c = clock();
  const t = new Throttle(c.now);
  t.configure({ ...DEFAULT_THROTTLE, perAccount: 3, perAddress: 100, windowSeconds: 10, maxLockoutSeconds: 25 });
  const guess = (address = "10.0.0.1") => refusal(() => t.begin("signin", GUEST, { account: "ann@example.com", address }));
  expect([guess(), guess(), guess()]).toEqual([undefined, undefined, undefined]);
  const locked = guess("10.0.0.2"); // another address does not help: the account is locked
  expect(locked).toMatchObject({ kind: "rate_limited", retryAfter: 10 });
  expect(locked!.detail).toContain("too many sign-in attempts");
  c.advance(10_000);
  expect([guess(), guess(), guess()]).toEqual([undefined, undefined, undefined]);
  expect(guess()?.retryAfter).toBe(20); // backoff
  c.advance(20_000);
  for (let i = 0; i < 3; i++) guess();
  expect(guess()?.retryAfter).toBe(25); // capped
  c.advance(25_000);
  // The owner gets in: the account's counter and backoff are gone.
  t.begin("signin", GUEST, { account: "ann@example.com", address: "10.0.0.3" }).succeeded();
  expect([guess(), guess(), guess()]).toEqual([undefined, undefined, undefined]);
  expect(guess()?.retryAfter).toBe(10);
  // Other accounts and other kinds are not affected.
  expect(refusal(() => t.begin("signin", GUEST, { account: "bob@example.com", address: "10.0.0.1" }))).toBeUndefined();
  expect(refusal(() => t.begin("otp", GUEST, { account: "ann@example.com", address: "10.0.0.1" }))).toBeUndefined();
});

test("an attempt withdrawn (turned away unchecked) counts for nothing, nor does the lock-out it caused", () => {
  const c = clock();
  const t = new Throttle(c.now);
  t.configure({ ...DEFAULT_THROTTLE, perAccount: 3, perAddress: 100, windowSeconds: 10 });
  const begin = () => t.begin("signin", GUEST, { account: "ann@example.com", address: "10.0.0.1" });
  // However many attempts are withdrawn, the account keeps its three real tries.
  for (let i = 0; i < 10; i++) begin().withdrawn();
  begin();
  begin();
  // The third locks the account; withdrawn, it unlocks it again.
  begin().withdrawn();
  expect(refusal(begin)).toBeUndefined();
  expect(refusal(begin)?.kind).toBe("rate_limited");
});

test("an address is locked after its limit whichever accounts it tries; a success gives back only its own attempt", () => {
  const c = clock();
  const t = new Throttle(c.now);
  t.configure({ ...DEFAULT_THROTTLE, perAccount: 100, perAddress: 4, windowSeconds: 10 });
  const from = (address: string, account: string) => refusal(() => t.begin("signin", GUEST, { account, address }));
  for (let i = 0; i < 3; i++) expect(from("10.0.0.1", `user${i}@example.com`)).toBeUndefined();
  // A success of the attacker's own account does not wipe the failures against the others.
  t.begin("signin", GUEST, { account: "mine@example.com", address: "10.0.0.1" }).succeeded();
  expect(from("10.0.0.1", "user3@example.com")).toBeUndefined();
  expect(from("10.0.0.1", "user4@example.com")?.kind).toBe("rate_limited");
  expect(from("10.0.0.2", "user4@example.com")).toBeUndefined();
  // Without an address (the CLI) only the account counts; administrators and the system are not throttled.
  expect(refusal(() => t.begin("signin", GUEST, { account: "x@example.com" }))).toBeUndefined();
  for (let i = 0; i < 10; i++) expect(refusal(() => t.begin("signin", SYSTEM, { account: "user4@example.com", address: "10.0.0.1" }))).toBeUndefined();
});

test("memory is bounded: many distinct keys never grow the map past its cap, and expired keys go first", () => {
  const c = clock();
  const t = new Throttle(c.now);
  t.configure({ ...DEFAULT_THROTTLE, maxEntries: 1000, windowSeconds: 1, maxLockoutSeconds: 1 });
  let max = 0;
  for (let i = 0; i < 20_000; i++) {
    t.begin("signin", GUEST, { account: `user${i}@example.com`, address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}` });
    max = Math.max(max, t.size);
  }
  expect(max).toBeLessThanOrEqual(1000);
  // A huge "email" is remembered by a digest, not as given.
  t.begin("signin", GUEST, { account: "a".repeat(100_000) + "@example.com" });
  c.advance(5_000);
  // Everything above has expired: the next insert when full sweeps it all instead of dropping live keys.
  for (let i = 0; i < 1000; i++) t.begin("signup", GUEST, { account: `new${i}@example.com` });
  expect(t.size).toBeLessThanOrEqual(1000);
  expect(refusal(() => t.begin("signup", GUEST, { account: "new0@example.com" }))).toBeUndefined();
});

test("settings from _config: valid fields override the defaults, anything else keeps them", () => {
  expect(throttleSettings(undefined)).toEqual(DEFAULT_THROTTLE);
  expect(throttleSettings("not json")).toEqual(DEFAULT_THROTTLE);
  expect(throttleSettings(JSON.stringify({ per_account: 3, window_seconds: 0, per_address: "9", max_entries: 500 }))).toEqual({
    ...DEFAULT_THROTTLE, perAccount: 3, maxEntries: 500,
  });
});
