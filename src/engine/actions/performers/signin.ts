// `signin` (performer `jwt.token`): checks the password and hands the client a session token.
import { unauthorized, validation } from "../../errors.ts";
import { checkPassword } from "../../identity/users.ts";
import type { ActionResponse } from "../types.ts";
import { sessionToken, text, type Performer } from "./context.ts";

export const signin: Performer = { async: true, async run({ who, attributes, client }, ctx) {
  const email = text(attributes.email).trim().toLowerCase();
  const password = text(attributes.password);
  if (email === "" || password === "") throw validation("Validation failed", "email or password is empty");
  // Throttled before the password is checked: refused guesses cost no bcrypt work. Unknown emails count alike.
  const attempt = ctx.throttle.begin("signin", who, { account: email, address: client });
  const user = ctx.users.byEmail(email);
  let ok: boolean;
  try {
    ok = await checkPassword(password, user?.passwordHash);
  } catch (e) {
    // Turned away unchecked (too many checks in line): not an attempt, or a spray could lock the owner out.
    attempt.withdrawn();
    throw e;
  }
  // One message for an unknown email and a wrong password: no user enumeration.
  if (!ok || !user) throw unauthorized("Unauthorized", "Invalid username or password");
  attempt.succeeded();
  const token = await sessionToken(ctx, user);
  const responses: ActionResponse[] = [
    { ResponseType: "client.store.set", Attributes: { key: "token", value: token } },
    { ResponseType: "client.cookie.set", Attributes: { key: "token", value: `${token}; SameSite=Strict` } },
    { ResponseType: "client.notify", Attributes: { message: "Logged in", title: "Success", type: "success" } },
    { ResponseType: "client.redirect", Attributes: { delay: 2000, location: "/", window: "self" } },
  ];
  return responses;
} };
