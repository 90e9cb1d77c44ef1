// Who is calling. Every engine entry point takes one; adapters build it (guest, a token's user, the CLI's system).

export interface Identity {
  kind: "guest" | "user" | "system";
  /** Internal user_account.id; null for guests and the system. */
  userId: number | null;
  userRef: string | null;
  email: string | null;
  name: string | null;
  /** Internal usergroup ids the user belongs to. */
  groupIds: number[];
  isAdmin: boolean;
}

export const GUEST: Identity = Object.freeze({
  kind: "guest", userId: null, userRef: null, email: null, name: null, groupIds: [], isAdmin: false,
}) as Identity;

/** The engine acting for itself (start-up, seeding, CLI provisioning): every gate passes. */
export const SYSTEM: Identity = Object.freeze({
  kind: "system", userId: null, userRef: null, email: null, name: null, groupIds: [], isAdmin: true,
}) as Identity;
