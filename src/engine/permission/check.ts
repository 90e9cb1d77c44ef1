// The one permission predicate (spec 30 section 2.3), used for tables, rows and actions alike.
import type { Identity } from "../identity/identity.ts";
import { AUTHENTICATED_EXECUTE, bit, type Operation } from "./bits.ts";

/** An object's permission facts: its own integer, its owner, and the groups it is shared with. */
export interface PermissionInstance {
  ownerId: number | null;
  permission: number;
  /** Group grants: the join row's permission is what counts, never the object's own. May load on first read. */
  readonly groups: { groupId: number; permission: number }[];
}

export interface Verdict {
  allowed: boolean;
  /** Which rule decided, in words (for `daptin permission explain`). */
  reason: string;
}

type Rule = "admin" | "authenticated" | "owner" | "guest" | "group" | "denied";

/** Which rule allows `op`, checked in Daptin's order; group grants are read only when nothing before allows. */
function decide(who: Identity, op: Operation, obj: PermissionInstance): Rule {
  if (who.isAdmin) return "admin";
  const p = obj.permission;
  if (op === "execute" && who.kind === "user" && (p & AUTHENTICATED_EXECUTE) !== 0) return "authenticated";
  // Unlike Daptin, an ownerless object never matches a guest's "null" user id: owner bits need a real owner.
  if (obj.ownerId !== null && who.userId !== null && obj.ownerId === who.userId && (p & bit("owner", op)) !== 0) return "owner";
  if ((p & bit("guest", op)) !== 0) return "guest";
  if (who.groupIds.length > 0 && sharedGrant(who, op, obj) !== undefined) return "group";
  return "denied";
}

function sharedGrant(who: Identity, op: Operation, obj: PermissionInstance): number | undefined {
  const g = bit("group", op);
  for (const grant of obj.groups) {
    if ((grant.permission & g) !== 0 && who.groupIds.includes(grant.groupId)) return grant.groupId;
  }
  return undefined;
}

export function explain(who: Identity, op: Operation, obj: PermissionInstance): Verdict {
  switch (decide(who, op, obj)) {
    case "admin":
      return { allowed: true, reason: "administrators may do everything" };
    case "authenticated":
      return { allowed: true, reason: "any signed-in user may execute (authenticated_execute)" };
    case "owner":
      return { allowed: true, reason: `the owner may ${op}` };
    case "guest":
      return { allowed: true, reason: `everyone may ${op} (guest bit)` };
    case "group":
      return { allowed: true, reason: `shared with a group of the caller (group ${sharedGrant(who, op, obj)}) that may ${op}` };
    case "denied": {
      const owner = obj.ownerId !== null && obj.ownerId === who.userId;
      return {
        allowed: false,
        reason: owner ? `the owner bit for ${op} is not set` : `no guest bit, ${who.userId === null ? "caller is a guest" : "caller is not the owner"}, and no group grant for ${op}`,
      };
    }
  }
}

export function can(who: Identity, op: Operation, obj: PermissionInstance): boolean {
  return decide(who, op, obj) !== "denied";
}
