// `signin` (performer `jwt.token`): checks the password and hands the client a session token.
import { unauthorized, validation } from "../../errors.ts";
import { inCheckLine } from "../../identity/users.ts";
import type { ActionResponse } from "../types.ts";
import { sessionToken, text, type Performer } from "./context.ts";

export const signin: Performer = { async: true, async run({ who, attributes, client }, ctx) {
  const email = text(attributes.email).trim().toLowerCase();
  const password = text(attributes.password);
  if (email === "" || password === "") throw validation("Validation failed", "email or password is empty");
  // In line for a password check first (a 503 when the turn does not come soon, before any attempt is counted), then
  // throttled before the password is checked: refused guesses cost no bcrypt work. Unknown emails count alike.
  const user = await inCheckLine(async (verify) => {
    const attempt = ctx.throttle.begin("signin", who, { account: email, address: client });
    const found = ctx.users.byEmail(email);
    // One message for an unknown email and a wrong password: no user enumeration.
    if (!(await verify(password, found?.passwordHash)) || !found) throw unauthorized("Unauthorized", "Invalid username or password");
    attempt.succeeded();
    return found;
  });
  const token = await sessionToken(ctx, user);
  const responses: ActionResponse[] = [
    { ResponseType: "client.store.set", Attributes: { key: "token", value: token } },
    { ResponseType: "client.cookie.set", Attributes: { key: "token", value: `${token}; SameSite=Strict` } },
    { ResponseType: "client.notify", Attributes: { message: "Logged in", title: "Success", type: "success" } },
    { ResponseType: "client.redirect", Attributes: { delay: 2000, location: "/", window: "self" } },
  ];
  return responses;
} };
