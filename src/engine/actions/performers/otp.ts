// One-time passwords and password reset (spec 40 sections 4.2, 5.1). Codes go out through the mail sender (the
// server log when no SMTP server is configured); they are never part of a response.
import { randomBytes } from "node:crypto";
import { validation } from "../../errors.ts";
import { SYSTEM } from "../../identity/identity.ts";
import type { OtpPurpose } from "../../identity/otp.ts";
import { notify } from "../types.ts";
import { sessionToken, text, type Performer } from "./context.ts";
import { MIN_PASSWORD } from "./signup.ts";

const PURPOSES: OtpPurpose[] = ["enrollment", "send", "login", "password_reset"];

function purposeOf(v: unknown, fallback: OtpPurpose): OtpPurpose {
  const p = text(v) as OtpPurpose;
  return PURPOSES.includes(p) ? p : fallback;
}

/** `otp.generate`: a code for the account (creating its enrolment), mailed to the account's address. */
export const otpGenerate: Performer = {
  async: true,
  async run({ who, attributes, client }, ctx) {
    const email = text(attributes.email).trim().toLowerCase() || undefined;
    const mobile = text(attributes.mobile ?? attributes.mobile_number) || undefined;
    // Each call mails a code: counted per account and address whatever the outcome.
    ctx.throttle.begin("code-mail", who, { account: email ?? mobile, address: client });
    const { code, email: to } = ctx.db.transaction(() => ctx.otp.generate(who, { email, mobile, purpose: purposeOf(attributes.purpose, "send") }));
    await ctx.mail.send({ to, subject: "Your one-time password", text: `Your verification code is: ${code}` });
    return [];
  },
};

/** `otp.login.verify`: checks a code; for `login` answers a session token. */
export const otpVerify: Performer = {
  async: true,
  async run({ who, attributes, client }, ctx) {
    const purpose = purposeOf(attributes.purpose, "login");
    const user = ctx.otp.verify(who, {
      email: text(attributes.email) || undefined, mobile: text(attributes.mobile ?? attributes.mobile_number) || undefined,
      otp: text(attributes.otp), purpose, client,
    });
    if (purpose !== "login") return [notify("success", "Success", "Verified")];
    const token = await sessionToken(ctx, ctx.users.byEmail(user.email!)!);
    return [{ ResponseType: "client.store.set", Attributes: { key: "token", value: token } }];
  },
};

const SENT = "If the address belongs to an account, a verification code was sent to it";

/** reset-password: mails a code to the account (the same answer whether or not the address is registered). */
export const resetBegin: Performer = {
  async: true,
  async run({ who, attributes, client }, ctx) {
    const email = text(attributes.email).trim().toLowerCase();
    if (!email) throw validation("Validation failed", "email is required", { pointer: "/attributes/email" });
    // Counted before the address is looked up: the answer is the same for unknown addresses, 429 included.
    ctx.throttle.begin("code-mail", who, { account: email, address: client });
    if (!ctx.users.byEmail(email)) return [notify("success", "Success", SENT)];
    const { code } = ctx.db.transaction(() => ctx.otp.generate(SYSTEM, { email, purpose: "password_reset" }));
    await ctx.mail.send({ to: email, subject: "Request for password reset", text: `Your verification code is: ${code}` });
    return [notify("success", "Success", SENT)];
  },
};

/** reset-password-verify: with the mailed code, sets the new `password` (or a random one, mailed). */
export const resetVerify: Performer = {
  async: true,
  async run({ who, attributes, client }, ctx) {
    const email = text(attributes.email).trim().toLowerCase();
    const chosen = text(attributes.password);
    // Before the code is checked: a refused password must not use the code up.
    if (chosen && chosen.length < MIN_PASSWORD) {
      throw validation("Validation failed", `password: must be at least ${MIN_PASSWORD} characters`, { pointer: "/attributes/password" });
    }
    const user = ctx.otp.verify(who, { email, otp: text(attributes.otp), purpose: "password_reset", client });
    const password = chosen || randomBytes(9).toString("base64url");
    // The asynchronous update hashes off the event loop, before its write transaction opens.
    await ctx.data.update(SYSTEM, "user_account", user.userRef!, { attributes: { password } });
    if (!chosen) await ctx.mail.send({ to: email, subject: "Your new password", text: `Your new password is: ${password}` });
    return [notify("success", "Success", chosen ? "Password changed; sign in with the new password" : "A new password was sent to your address")];
  },
};
