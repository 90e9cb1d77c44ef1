// `become_an_administrator` (performer `__become_admin`): the caller claims the instance, which locks down.
import { unauthorized } from "../../errors.ts";
import { becomeAdministrator } from "../../identity/lockdown.ts";
import type { Performer } from "./context.ts";

export const becomeAdmin: Performer = { run({ who }, ctx) {
  if (who.userId === null) throw unauthorized("Unauthorized", "sign in first: the administrator is the signed-in caller");
  becomeAdministrator(ctx.db, ctx.registry(), who.userId);
  ctx.lockedDown();
  return [
    { ResponseType: "client.redirect", Attributes: { delay: 7000, location: "/", window: "self" } },
    { ResponseType: "Restart", Attributes: null },
  ];
} };
