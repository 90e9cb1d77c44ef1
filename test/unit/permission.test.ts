// Unit tests for src/engine/permission/bits.ts (the 22-bit permission integer) and check.ts (`can`).
import { describe, expect, test } from "bun:test";
import { GUEST, type Identity, SYSTEM } from "../../src/engine/identity/identity.ts";
import {
  ALLOW_ALL_PERMISSIONS,
  AUTHENTICATED_EXECUTE,
  bit,
  DEFAULT_PERMISSION,
  describePermission,
  has,
  NO_PERMISSION,
  OPERATIONS,
  parsePermission,
  PermissionSyntaxError,
  SCOPES,
} from "../../src/engine/permission/bits.ts";
import { can, type PermissionInstance } from "../../src/engine/permission/check.ts";

const ALL_OPS = 127;

describe("bits: layout", () => {
  test("seven operations per scope, guest at bit 0, owner at 7, group at 14", () => {
    expect(OPERATIONS).toEqual(["peek", "read", "create", "update", "delete", "execute", "refer"]);
    expect(bit("guest", "peek")).toBe(1);
    expect(bit("guest", "execute")).toBe(32);
    expect(bit("guest", "refer")).toBe(64);
    expect(bit("owner", "peek")).toBe(1 << 7);
    expect(bit("owner", "read")).toBe(256);
    expect(bit("group", "peek")).toBe(1 << 14);
    expect(bit("group", "refer")).toBe(1 << 20);
    expect(AUTHENTICATED_EXECUTE).toBe(1 << 21);
  });

  test("every (scope, operation) has its own bit", () => {
    const seen = new Set<number>();
    for (const s of SCOPES) for (const op of OPERATIONS) seen.add(bit(s, op));
    seen.add(AUTHENTICATED_EXECUTE);
    expect(seen.size).toBe(22);
    expect([...seen].reduce((a, b) => a | b, 0)).toBe(4194303);
  });

  test("constants", () => {
    expect(ALLOW_ALL_PERMISSIONS).toBe(2097151);
    expect(DEFAULT_PERMISSION).toBe(561441);
    expect(NO_PERMISSION).toBe(0);
  });

  test("2097151 is every operation for every scope and no AuthenticatedExecute", () => {
    for (const s of SCOPES) for (const op of OPERATIONS) expect(has(2097151, s, op)).toBe(true);
    expect(2097151 & AUTHENTICATED_EXECUTE).toBe(0);
    expect(describePermission(2097151)).toEqual({ guest: "all", owner: "all", group: "all" });
  });

  test("561441 is guest peek+execute, owner read+execute, group read+execute", () => {
    expect(describePermission(561441)).toEqual({
      guest: ["peek", "execute"],
      owner: ["read", "execute"],
      group: ["read", "execute"],
    });
    expect(1 + 32 + 256 + 4096 + 32768 + 524288).toBe(561441);
    expect(has(561441, "guest", "read")).toBe(false);
    expect(has(561441, "owner", "update")).toBe(false);
    expect(has(561441, "group", "peek")).toBe(false);
  });
});

describe("parsePermission: integers", () => {
  test("integers in range are kept", () => {
    for (const n of [0, 1, 561441, 2097151, 4194303]) expect(parsePermission(n)).toBe(n);
  });

  test("integer strings are read", () => {
    expect(parsePermission("561441")).toBe(561441);
    expect(parsePermission(" 42 ")).toBe(42);
  });

  test("out of range and fractional numbers are errors", () => {
    for (const n of [-1, 4194304, 1.5, Number.NaN]) expect(() => parsePermission(n)).toThrow(PermissionSyntaxError);
  });
});

describe("parsePermission: symbolic objects", () => {
  test("{guest: [peek, execute], owner: all}", () => {
    expect(parsePermission({ guest: ["peek", "execute"], owner: "all" })).toBe(1 + 32 + (127 << 7));
  });

  test("every scope, all", () => {
    expect(parsePermission({ guest: "all", owner: "all", group: "all" })).toBe(2097151);
  });

  test("the locked-down default written symbolically", () => {
    expect(parsePermission({ guest: ["peek", "execute"], owner: ["read", "execute"], group: ["read", "execute"] })).toBe(561441);
  });

  test("none, null and empty lists give nothing", () => {
    expect(parsePermission({ guest: "none", owner: null, group: [] })).toBe(0);
    expect(parsePermission({})).toBe(0);
  });

  test("user and everyone are aliases of owner and guest", () => {
    expect(parsePermission({ user: ["read"] })).toBe(bit("owner", "read"));
    expect(parsePermission({ everyone: ["read"] })).toBe(bit("guest", "read"));
  });

  test("scope and operation names are case-insensitive", () => {
    expect(parsePermission({ GUEST: ["PEEK", "Read"] })).toBe(3);
  });

  test("a scope may list operations as one string", () => {
    expect(parsePermission({ group: "read, update" })).toBe(bit("group", "read") | bit("group", "update"));
  });

  test("authenticated_execute", () => {
    expect(parsePermission({ authenticated_execute: true })).toBe(AUTHENTICATED_EXECUTE);
    expect(parsePermission({ authenticated_execute: false, guest: ["peek"] })).toBe(1);
    expect(parsePermission({ AuthenticatedExecute: true, owner: "all" })).toBe(AUTHENTICATED_EXECUTE | (ALL_OPS << 7));
  });
});

describe("parsePermission: compact strings", () => {
  test('"guest:peek,execute owner:all"', () => {
    expect(parsePermission("guest:peek,execute owner:all")).toBe(1 + 32 + (127 << 7));
  });

  test("all three scopes and authenticated_execute", () => {
    expect(parsePermission("guest:peek,execute owner:read,execute group:read,execute")).toBe(561441);
    expect(parsePermission("owner:all authenticated_execute")).toBe((ALL_OPS << 7) | AUTHENTICATED_EXECUTE);
  });

  test("semicolons separate scopes too", () => {
    expect(parsePermission("group:read;owner:read")).toBe(bit("group", "read") | bit("owner", "read"));
  });

  test("none in compact form", () => {
    expect(parsePermission("guest:none owner:all")).toBe(ALL_OPS << 7);
  });
});

describe("parsePermission: errors", () => {
  const bad: [string, unknown][] = [
    ["unknown scope", { wizard: ["read"] }],
    ["unknown operation", { guest: ["fly"] }],
    ["a number as a scope value", { guest: 5 }],
    ["an object as a scope value", { guest: { read: true } }],
    ["authenticated_execute not boolean", { authenticated_execute: "yes" }],
    ["a compact string without colon", "guest"],
    ["a compact string with an unknown operation", "guest:peek,fly"],
    ["a compact string with an unknown scope", "admin:all"],
    ["null", null],
    ["a list", ["read"]],
    ["a boolean", true],
  ];
  for (const [name, value] of bad) {
    test(name, () => {
      expect(() => parsePermission(value)).toThrow(PermissionSyntaxError);
    });
  }

  test("the message names what is wrong", () => {
    expect(() => parsePermission({ guest: ["fly"] })).toThrow(/fly/);
    expect(() => parsePermission({ wizard: [] })).toThrow(/wizard/);
  });
});

describe("describePermission", () => {
  test("0 is empty lists, no authenticated_execute", () => {
    expect(describePermission(0)).toEqual({ guest: [], owner: [], group: [] });
  });

  test("authenticated_execute shows up", () => {
    expect(describePermission(AUTHENTICATED_EXECUTE | 1)).toEqual({ guest: ["peek"], owner: [], group: [], authenticated_execute: true });
  });

  test("round trip: parsePermission(describePermission(n)) === n", () => {
    const samples = [0, 1, 33, 16289, 561441, 2097151, 4194303, AUTHENTICATED_EXECUTE, 1 << 20, 123456, 3999999];
    for (const n of samples) expect(parsePermission(describePermission(n))).toBe(n);
  });

  test("round trip over every single bit", () => {
    for (let i = 0; i < 22; i++) expect(parsePermission(describePermission(1 << i))).toBe(1 << i);
  });
});

// ---------------------------------------------------------------------------------------------------------------

function user(userId: number, groupIds: number[] = []): Identity {
  return { kind: "user", userId, userRef: null, email: `u${userId}@example.com`, name: `u${userId}`, groupIds, isAdmin: false };
}

const inst = (permission: number, ownerId: number | null = null, groups: PermissionInstance["groups"] = []): PermissionInstance => ({
  ownerId,
  permission,
  groups,
});

describe("can: administrators", () => {
  test("an admin may do anything, even with permission 0", () => {
    for (const op of OPERATIONS) expect(can(SYSTEM, op, inst(0))).toBe(true);
    const admin: Identity = { ...user(1), isAdmin: true };
    for (const op of OPERATIONS) expect(can(admin, op, inst(0, 99))).toBe(true);
  });
});

describe("can: owner bits", () => {
  const ownerRead = inst(bit("owner", "read") | bit("owner", "update"), 7);

  test("the owner gets the owner bits", () => {
    expect(can(user(7), "read", ownerRead)).toBe(true);
    expect(can(user(7), "update", ownerRead)).toBe(true);
    expect(can(user(7), "delete", ownerRead)).toBe(false);
  });

  test("another user does not", () => {
    expect(can(user(8), "read", ownerRead)).toBe(false);
  });

  test("a guest never matches an ownerless row through owner bits", () => {
    const ownerless = inst(ALL_OPS << 7, null);
    for (const op of OPERATIONS) expect(can(GUEST, op, ownerless)).toBe(false);
  });

  test("a signed-in user does not own an ownerless row either", () => {
    expect(can(user(7), "read", inst(ALL_OPS << 7, null))).toBe(false);
  });

  test("a guest does not own a row owned by someone", () => {
    expect(can(GUEST, "read", inst(ALL_OPS << 7, 7))).toBe(false);
  });
});

describe("can: guest bits", () => {
  test("guest bits apply to everyone", () => {
    const p = inst(bit("guest", "read"), 7);
    expect(can(GUEST, "read", p)).toBe(true);
    expect(can(user(8), "read", p)).toBe(true);
    expect(can(user(7), "read", p)).toBe(true);
    expect(can(GUEST, "update", p)).toBe(false);
  });

  test("the default permission: a guest may peek and execute, not read", () => {
    const p = inst(DEFAULT_PERMISSION, 7);
    expect(can(GUEST, "peek", p)).toBe(true);
    expect(can(GUEST, "execute", p)).toBe(true);
    expect(can(GUEST, "read", p)).toBe(false);
    expect(can(user(7), "read", p)).toBe(true);
    expect(can(user(7), "update", p)).toBe(false);
    expect(can(user(8), "read", p)).toBe(false);
  });
});

describe("can: group grants", () => {
  test("a member gets the bits of the join row's permission", () => {
    const p = inst(0, 7, [{ groupId: 3, permission: bit("group", "read") }]);
    expect(can(user(8, [3]), "read", p)).toBe(true);
    expect(can(user(8, [3]), "update", p)).toBe(false);
  });

  test("a non-member gets nothing from the grant", () => {
    const p = inst(0, 7, [{ groupId: 3, permission: ALL_OPS << 14 }]);
    expect(can(user(8, [4]), "read", p)).toBe(false);
    expect(can(user(8), "read", p)).toBe(false);
    expect(can(GUEST, "read", p)).toBe(false);
  });

  test("the object's own group bits do not count, only the join row's", () => {
    const p = inst(ALL_OPS << 14, 7, [{ groupId: 3, permission: 0 }]);
    for (const op of OPERATIONS) expect(can(user(8, [3]), op, p)).toBe(false);
  });

  test("owner or guest bits in the join row do not act as group bits", () => {
    const p = inst(0, 7, [{ groupId: 3, permission: bit("owner", "read") | bit("guest", "read") }]);
    expect(can(user(8, [3]), "read", p)).toBe(false);
  });

  test("any one matching grant is enough", () => {
    const p = inst(0, null, [
      { groupId: 3, permission: bit("group", "read") },
      { groupId: 5, permission: bit("group", "delete") },
    ]);
    expect(can(user(8, [5]), "delete", p)).toBe(true);
    expect(can(user(8, [5]), "read", p)).toBe(false);
    expect(can(user(8, [3, 5]), "read", p)).toBe(true);
  });
});

describe("can: AuthenticatedExecute", () => {
  const p = inst(AUTHENTICATED_EXECUTE, null);

  test("a signed-in user may execute", () => {
    expect(can(user(8), "execute", p)).toBe(true);
  });

  test("a guest may not", () => {
    expect(can(GUEST, "execute", p)).toBe(false);
  });

  test("it grants only execute", () => {
    for (const op of OPERATIONS.filter((o) => o !== "execute")) expect(can(user(8), op, p)).toBe(false);
  });

  test("the non-admin system identity is not a signed-in user", () => {
    const sys: Identity = { ...SYSTEM, isAdmin: false };
    expect(can(sys, "execute", p)).toBe(false);
  });
});
