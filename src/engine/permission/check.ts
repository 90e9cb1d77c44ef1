// The one permission predicate (spec 30 section 2.3), used for tables, rows and actions alike.
import type { Identity } from "../identity/identity.ts";
import { AUTHENTICATED_EXECUTE, bit, type Operation } from "./bits.ts";

/** An object's permission facts: its own integer, its owner, and the groups it is shared with. */
export interface PermissionInstance {
  ownerId: number | null;
  permission: number;
  /** Group grants: the join row's permission is what counts, never the object's own. */
  groups: { groupId: number; permission: number }[];
}

export function can(who: Identity, op: Operation, obj: PermissionInstance): boolean {
  if (who.isAdmin) return true;
  const p = obj.permission;
  if (op === "execute" && who.kind === "user" && (p & AUTHENTICATED_EXECUTE) !== 0) return true;
  // Unlike Daptin, an ownerless object never matches a guest's "null" user id: owner bits need a real owner.
  if (obj.ownerId !== null && who.userId !== null && obj.ownerId === who.userId && (p & bit("owner", op)) !== 0) return true;
  if ((p & bit("guest", op)) !== 0) return true;
  if (who.groupIds.length > 0) {
    const g = bit("group", op);
    for (const grant of obj.groups) if ((grant.permission & g) !== 0 && who.groupIds.includes(grant.groupId)) return true;
  }
  return false;
}
