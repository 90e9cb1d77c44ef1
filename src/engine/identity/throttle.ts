// Throttling of what can be guessed or abused from outside: signin, one-time-password checks, password reset and
// signup. Attempts are counted per account and per client address, and refused with 429 BEFORE any password or code
// is checked, so an attacker spends neither guesses nor the server's CPU. Counters live in process memory, expire,
// and their number is capped.
import { createHash } from "node:crypto";
import { DaptinError } from "../errors.ts";
import type { Identity } from "./identity.ts";

export interface ThrottleSettings {
  /** Attempts per account (an email, a one-time-password account) within one window. */
  perAccount: number;
  /** Attempts per client address within one window, whichever accounts they aim at. */
  perAddress: number;
  windowSeconds: number;
  /** A key that reaches its limit is locked for a window, twice as long at each repeat (backoff), at most this. */
  maxLockoutSeconds: number;
  /** Most keys remembered at once; when full, expired keys go first, then the least recently used. */
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = { perAccount: 5, perAddress: 50, windowSeconds: 60, maxLockoutSeconds: 900, maxEntries: 100_000 };

/** `_config` backend key holding overrides, e.g. `{"per_account": 5, "per_address": 50, "window_seconds": 60}`. */
export const THROTTLE_CONFIG_KEY = "auth.throttle";

const CONFIG_FIELDS: [keyof ThrottleSettings, string, number, number][] = [
  ["perAccount", "per_account", 1, 1_000_000],
  ["perAddress", "per_address", 1, 1_000_000],
  ["windowSeconds", "window_seconds", 1, 86_400],
  ["maxLockoutSeconds", "max_lockout_seconds", 1, 604_800],
  ["maxEntries", "max_entries", 100, 10_000_000],
];

/**
 * The settings a `_config` value asks for: each valid field overrides its default, anything else (not JSON, a field
 * out of range) keeps the default, so a typo cannot switch the throttle off.
 */
export function throttleSettings(raw: string | undefined): ThrottleSettings {
  const out = { ...DEFAULT_THROTTLE };
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return out;
  }
  if (parsed === null || typeof parsed !== "object") return out;
  for (const [field, key, min, max] of CONFIG_FIELDS) {
    const v = (parsed as Record<string, unknown>)[key];
    if (typeof v === "number" && Number.isInteger(v) && v >= min && v <= max) out[field] = v;
  }
  return out;
}

/** What is throttled. Each kind counts on its own (a mistyped password does not use up one-time-password tries). */
export type ThrottleKind = "signin" | "otp" | "code-mail" | "signup";

const WHAT: Record<ThrottleKind, string> = {
  signin: "sign-in attempts",
  otp: "one-time-password attempts",
  "code-mail": "codes requested",
  signup: "sign-ups",
};

interface Entry {
  count: number;
  /** When the current counting window ends (ms). */
  windowEnds: number;
  lockedUntil: number;
  /** Lock-outs so far: the next one lasts window * 2^strikes. */
  strikes: number;
  /** After this the entry holds nothing worth keeping (its window is over and its backoff forgotten). */
  expires: number;
}

/**
 * An admitted attempt. `succeeded` gives back what a legitimate success should not cost; `withdrawn` gives back the
 * attempt itself, when it was turned away unchecked (the server too busy to check it).
 */
export interface Attempt {
  succeeded(): void;
  withdrawn(): void;
}

const FREE: Attempt = { succeeded() {}, withdrawn() {} };

export class Throttle {
  private settings = DEFAULT_THROTTLE;
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: () => number = Date.now) {}

  configure(settings: ThrottleSettings): void {
    this.settings = settings;
  }

  /** How many keys are remembered (tests prove the cap). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Admits one attempt of `kind` at `account` from `address`, or refuses it (429 with Retry-After) while either is
   * locked. The attempt counts at once, before the caller checks anything: concurrent guesses cannot all pass the
   * check before the first failure is recorded. Administrators (and the CLI's system identity) are not throttled.
   */
  begin(kind: ThrottleKind, who: Identity, keys: { account?: string; address?: string }): Attempt {
    if (who.isAdmin) return FREE;
    const now = this.clock();
    const account = keys.account ? keyOf(kind, "account", keys.account) : undefined;
    const address = keys.address ? keyOf(kind, "address", keys.address) : undefined;
    let wait = 0;
    for (const k of [account, address]) {
      const e = k === undefined ? undefined : this.live(k, now);
      if (e && e.lockedUntil > now) wait = Math.max(wait, e.lockedUntil - now);
    }
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new DaptinError("rate_limited", "Too many attempts", {
        detail: `too many ${WHAT[kind]}; retry in ${seconds} s`, code: kind === "otp" ? "otp_rate_limited" : "rate_limited", retryAfter: seconds,
      });
    }
    const lockedAddress = address !== undefined && this.count(address, this.settings.perAddress, now);
    const lockedAccount = account !== undefined && this.count(account, this.settings.perAccount, now);
    return {
      succeeded: () => {
        // The owner got in: their account starts afresh. The address gives back this attempt only (its other
        // failures stand, or signing in to one's own account would wipe an attack on others).
        if (account !== undefined) this.entries.delete(account);
        this.giveBack(address, lockedAddress, this.settings.perAddress);
      },
      withdrawn: () => {
        this.giveBack(account, lockedAccount, this.settings.perAccount);
        this.giveBack(address, lockedAddress, this.settings.perAddress);
      },
    };
  }

  /** Takes one attempt off `key`'s count, and the lock-out it caused, if it caused one. */
  private giveBack(key: string | undefined, locked: boolean, limit: number): void {
    const e = key === undefined ? undefined : this.entries.get(key);
    if (!e) return;
    if (locked) {
      e.lockedUntil = 0;
      e.strikes = Math.max(0, e.strikes - 1);
      e.count = limit - 1;
    } else e.count = Math.max(0, e.count - 1);
  }

  /** The entry of `key` if it still means something; an expired one is dropped. */
  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** Counts one attempt on `key`; true when this attempt reached the limit and locked the key. */
  private count(key: string, limit: number, now: number): boolean {
    const { windowSeconds, maxLockoutSeconds } = this.settings;
    let e = this.live(key, now);
    if (e) {
      this.entries.delete(key); // re-inserted below: the map's order is least recently used first
    } else {
      this.makeRoom(now);
      e = { count: 0, windowEnds: 0, lockedUntil: 0, strikes: 0, expires: 0 };
    }
    if (e.windowEnds <= now) {
      e.count = 0;
      e.windowEnds = now + windowSeconds * 1000;
    }
    e.count++;
    let locked = false;
    if (e.count >= limit) {
      const lockout = Math.min(windowSeconds * 2 ** e.strikes, maxLockoutSeconds) * 1000;
      e.lockedUntil = now + lockout;
      e.strikes++;
      // Counting starts again once the lock-out is over.
      e.count = 0;
      e.windowEnds = e.lockedUntil;
      locked = true;
    }
    // The backoff is remembered for one longest lock-out after the last one ends.
    e.expires = Math.max(e.windowEnds, e.lockedUntil > 0 ? e.lockedUntil + maxLockoutSeconds * 1000 : 0);
    this.entries.set(key, e);
    return locked;
  }

  /** Keeps the map under its cap: expired entries first, then the least recently used tenth. */
  private makeRoom(now: number): void {
    const max = this.settings.maxEntries;
    if (this.entries.size < max) return;
    for (const [k, e] of this.entries) if (e.expires <= now) this.entries.delete(k);
    if (this.entries.size < max) return;
    let drop = this.entries.size - Math.floor(max * 0.9);
    for (const k of this.entries.keys()) {
      if (drop-- <= 0) break;
      this.entries.delete(k);
    }
  }
}

/** A bounded key: an attacker's 100,000-character "email" is remembered as 64 characters. */
function keyOf(kind: ThrottleKind, scope: "account" | "address", value: string): string {
  const v = value.length > 200 ? createHash("sha256").update(value).digest("hex") : value;
  return `${kind}\u0000${scope}\u0000${v}`;
}
