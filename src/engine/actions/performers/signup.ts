// `signup`: validates, creates the user account (hashed password, member of `users`), tells the client to sign in.
// Asynchronous: the account is written in its own transaction, after the hash is computed on a worker thread.
import { isEmail } from "../../data/rules.ts";
import { validation } from "../../errors.ts";
import { SYSTEM } from "../../identity/identity.ts";
import { notify, redirect } from "../types.ts";
import { text, type Performer } from "./context.ts";

export const MIN_PASSWORD = 8;

export const signup: Performer = { async: true, async run({ who, attributes, client }, ctx) {
  const email = text(attributes.email).trim().toLowerCase();
  const name = text(attributes.name).trim();
  const password = text(attributes.password);
  const confirm = attributes.passwordConfirm;
  const fail = (field: string, message: string) => validation("Validation failed", message, { pointer: `/attributes/${field}` });
  if (!isEmail(email)) throw fail("email", "email: invalid value for email (expected an address like ann@example.com)");
  if (name === "") throw fail("name", "name: a name is required");
  if (password.length < MIN_PASSWORD) throw fail("password", `password: must be at least ${MIN_PASSWORD} characters`);
  if (confirm !== undefined && confirm !== null && text(confirm) !== password) {
    throw fail("passwordConfirm", "passwordConfirm: does not match password");
  }
  // Every sign-up costs a password hash: counted per address (and email) before that work, whatever the outcome.
  ctx.throttle.begin("signup", who, { account: email, address: client });
  // The account is created with the action's elevated rights: guests may sign up while signup is open. The
  // asynchronous create hashes the password off the event loop before its (one) write transaction opens.
  await ctx.data.create(SYSTEM, "user_account", { attributes: { name, email, password, confirmed: false } });
  return [notify("success", "Success", "Sign-up successful. Redirecting to sign in"), redirect("/auth/signin", 2000)];
} };
