// The 22-bit permission integer (spec 30 section 1): 7 operations for each of three scopes
// (guest = everyone, owner, group) plus one bit that lets any signed-in user execute.

export const OPERATIONS = ["peek", "read", "create", "update", "delete", "execute", "refer"] as const;
export type Operation = (typeof OPERATIONS)[number];
export const SCOPES = ["guest", "owner", "group"] as const;
export type Scope = (typeof SCOPES)[number];

const SCOPE_SHIFT: Record<Scope, number> = { guest: 0, owner: 7, group: 14 };

export const AUTHENTICATED_EXECUTE = 1 << 21;
/** Everything but AuthenticatedExecute: what a fresh instance grants before anyone becomes administrator. */
export const ALLOW_ALL_PERMISSIONS = 2097151;
/** GuestPeek, GuestExecute, UserRead, UserExecute, GroupRead, GroupExecute: the locked-down default. */
export const DEFAULT_PERMISSION = 561441;
export const NO_PERMISSION = 0;

export function bit(scope: Scope, op: Operation): number {
  return 1 << (SCOPE_SHIFT[scope] + OPERATIONS.indexOf(op));
}

export function has(permission: number, scope: Scope, op: Operation): boolean {
  return (permission & bit(scope, op)) !== 0;
}

/** A permission written for people: `{guest: [peek, execute], owner: all, group: [read]}`. */
export type SymbolicPermission = Partial<Record<Scope, Operation[] | "all" | "none">> & {
  authenticated_execute?: boolean;
};

export class PermissionSyntaxError extends Error {}

/** Accepts an integer or the symbolic form; returns the integer. */
export function parsePermission(value: unknown): number {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0 || value > ALLOW_ALL_PERMISSIONS + AUTHENTICATED_EXECUTE) {
      throw new PermissionSyntaxError(`${value} is not an integer between 0 and 4194303`);
    }
    return value;
  }
  if (typeof value === "string" && /^\d+$/.test(value.trim())) return parsePermission(Number(value.trim()));
  if (typeof value === "string") return parseCompact(value);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new PermissionSyntaxError("permission must be an integer or an object like {guest: [peek], owner: all}");
  }
  let result = 0;
  for (const [rawKey, ops] of Object.entries(value as Record<string, unknown>)) {
    const key = rawKey.toLowerCase();
    if (key === "authenticated_execute" || key === "authenticatedexecute") {
      if (ops === true) result |= AUTHENTICATED_EXECUTE;
      else if (ops !== false) throw new PermissionSyntaxError("authenticated_execute must be true or false");
      continue;
    }
    const scope = (key === "user" ? "owner" : key === "everyone" ? "guest" : key) as Scope;
    if (!SCOPES.includes(scope)) {
      throw new PermissionSyntaxError(`unknown permission scope "${rawKey}" (use guest, owner, group)`);
    }
    result |= scopeBits(scope, ops);
  }
  return result;
}

function scopeBits(scope: Scope, ops: unknown): number {
  if (ops === "all") return OPERATIONS.reduce((acc, op) => acc | bit(scope, op), 0);
  if (ops === "none" || ops === null) return 0;
  const list = typeof ops === "string" ? ops.split(/[\s,]+/).filter(Boolean) : ops;
  if (!Array.isArray(list)) {
    throw new PermissionSyntaxError(`permission scope ${scope} must be a list of operations, "all" or "none"`);
  }
  let result = 0;
  for (const op of list) {
    const name = String(op).toLowerCase() as Operation;
    if (!OPERATIONS.includes(name)) {
      throw new PermissionSyntaxError(`unknown operation "${op}" (use ${OPERATIONS.join(", ")})`);
    }
    result |= bit(scope, name);
  }
  return result;
}

/** `guest:peek,execute owner:all group:read` — the form `daptin` commands accept on the command line. */
function parseCompact(text: string): number {
  const obj: Record<string, string | boolean> = {};
  for (const part of text.trim().split(/\s+|;/).filter(Boolean)) {
    const [scope, ops] = part.split(":");
    if (scope === "authenticated_execute") obj[scope] = true;
    else if (scope && ops !== undefined) obj[scope] = ops;
    else throw new PermissionSyntaxError(`cannot read permission "${text}" (example: guest:peek,execute owner:all)`);
  }
  return parsePermission(obj);
}

/** The inverse of parsePermission, for `permission explain` and the docs. */
export function describePermission(permission: number): SymbolicPermission {
  const out: SymbolicPermission = {};
  for (const scope of SCOPES) {
    const ops = OPERATIONS.filter((op) => has(permission, scope, op));
    out[scope] = ops.length === OPERATIONS.length ? "all" : ops;
  }
  if (permission & AUTHENTICATED_EXECUTE) out.authenticated_execute = true;
  return out;
}
