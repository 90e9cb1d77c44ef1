// One-time passwords (spec 40 section 5.1): a TOTP secret per account in `user_otp_account` (encrypted), 6 digits,
// SHA-1, 120-second period. Checks are throttled per account and per client address (`throttle.ts`); a code works once.
import { sql } from "drizzle-orm";
import * as OTPAuth from "otpauth";
import type { DataService } from "../data/crud.ts";
import { bytesToUuid, newReferenceId, uuidToBytes } from "../data/ids.ts";
import type { SqlDb } from "../db/dialect.ts";
import { DaptinError, forbidden, unauthorized, validation } from "../errors.ts";
import { decrypt, encrypt } from "../schema/column-types/encrypted.ts";
import { type Identity, SYSTEM } from "./identity.ts";
import type { Throttle } from "./throttle.ts";
import type { Users } from "./users.ts";

const OTP_PERIOD_SECONDS = 120;

export type OtpPurpose = "enrollment" | "send" | "login" | "password_reset";

interface OtpAccount {
  id: number;
  ref: string;
  userId: number;
  email: string;
  secret: string;
  verified: boolean;
}

export class Otp {
  private used = new Map<string, number>();

  constructor(
    private readonly db: SqlDb,
    private readonly data: DataService,
    private readonly users: Users,
    private readonly secret: () => string | undefined,
    private readonly throttle: Throttle,
  ) {}

  private totp(account: OtpAccount): OTPAuth.TOTP {
    return new OTPAuth.TOTP({ issuer: "daptin", label: account.email, algorithm: "SHA1", digits: 6, period: OTP_PERIOD_SECONDS, secret: OTPAuth.Secret.fromBase32(account.secret) });
  }

  private find(email: string | undefined, mobile: string | undefined): OtpAccount | undefined {
    const row = this.db.get<{ id: number; ref: Uint8Array; user_id: number; email: string; otp_secret: string; verified: number }>(
      sql`SELECT o.id, o.reference_id AS ref, u.id AS user_id, u.email, o.otp_secret, o.verified FROM user_otp_account o JOIN user_account u ON u.id = o.otp_of_account
        WHERE ${email ? sql`u.email = ${email.trim().toLowerCase()}` : sql`o.mobile_number = ${mobile ?? ""}`}`,
    );
    if (!row) return undefined;
    return { id: row.id, ref: bytesToUuid(row.ref)!, userId: row.user_id, email: row.email, secret: decrypt(row.otp_secret, this.secret()), verified: Boolean(row.verified) };
  }

  /**
   * A current code for the account of `email` (or `mobile`), creating the account's secret on enrolment.
   * Enrolment and `send` are for the account's owner only.
   */
  generate(who: Identity, input: { email?: string; mobile?: string; purpose: OtpPurpose }): { code: string; email: string } {
    const email = input.email?.trim().toLowerCase() || undefined;
    let account = this.find(email, input.mobile);
    const user = email ? this.users.byEmail(email) : account ? this.users.byId(account.userId) : null;
    if (!user) throw validation("Validation failed", "no account with that email or mobile number");
    const ownerOnly = input.purpose === "enrollment" || input.purpose === "send";
    if (ownerOnly && who.kind !== "system" && who.userId !== user.userId) throw forbidden("Forbidden", "only the account's owner may do this");
    if (!account) {
      if (input.purpose === "login" || input.purpose === "send") throw validation("Validation failed", "this account has no one-time-password enrolment");
      // The secret column is hidden and encrypted: written here, never through the API.
      const secret = new OTPAuth.Secret({ size: 20 }).base32;
      const now = new Date().toISOString();
      const permission = this.data.defaultPermission(this.data.table("user_otp_account"));
      this.db.run(sql`INSERT INTO user_otp_account (mobile_number, otp_secret, verified, otp_of_account, user_account_id, reference_id, permission, version, created_at, updated_at)
        VALUES (${this.data.storedValue(this.data.table("user_otp_account").column.get("mobile_number")!, input.mobile ?? null)}, ${encrypt(secret, this.secret())}, 0, ${user.userId}, ${user.userId}, ${uuidToBytes(newReferenceId())}, ${permission}, 1, ${now}, ${now})`);
      this.data.forgetLists("user_otp_account");
      account = this.find(email ?? user.email ?? undefined, undefined)!;
    } else if (input.mobile && input.purpose === "enrollment") {
      this.data.updateSync(SYSTEM, "user_otp_account", account.ref, { attributes: { mobile_number: input.mobile } });
    }
    if (input.purpose === "login" && !account.verified) throw validation("Validation failed", "the one-time-password enrolment is not verified yet");
    return { code: this.totp(account).generate(), email: account.email };
  }

  /**
   * Checks a code; on success returns the account's user (and marks an enrolment verified). Every check counts
   * against the account and the caller's address, unknown accounts included, before the code is looked at.
   */
  verify(who: Identity, input: { email?: string; mobile?: string; otp: string; purpose: OtpPurpose; client?: string }): Identity {
    const email = input.email?.trim().toLowerCase() || undefined;
    const account = this.find(email, input.mobile);
    const attempt = this.throttle.begin("otp", who, { account: account ? `#${account.id}` : email ?? input.mobile, address: input.client });
    if (!account) throw unauthorized("Unauthorized", "invalid one-time password");
    const now = Date.now();
    const key = `${account.id}:${input.purpose}:${input.otp}`;
    for (const [k, t] of this.used) if (now - t > 3 * OTP_PERIOD_SECONDS * 1000) this.used.delete(k);
    if (this.used.has(key)) throw new DaptinError("conflict", "Code already used", { detail: "this one-time password was already used", code: "otp_replayed" });
    if (this.totp(account).validate({ token: String(input.otp).trim(), window: 1 }) === null) throw unauthorized("Unauthorized", "invalid one-time password");
    this.used.set(key, now);
    attempt.succeeded();
    // Through the data service: version, updated_at and listeners follow, as for any other write.
    if (input.purpose === "enrollment" && !account.verified) this.data.updateSync(SYSTEM, "user_otp_account", account.ref, { attributes: { verified: true } });
    return this.users.byId(account.userId)!;
  }
}
