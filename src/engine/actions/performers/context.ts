// What a built-in performer may use. Performers check authorisation against the real caller themselves.
import type { DataService } from "../../data/crud.ts";
import { validation } from "../../errors.ts";
import type { SqlDb } from "../../db/dialect.ts";
import type { Tokens } from "../../identity/jwt.ts";
import type { Users } from "../../identity/users.ts";
import type { Otp } from "../../identity/otp.ts";
import type { Throttle } from "../../identity/throttle.ts";
import type { MailSender } from "../../mail/sender.ts";
import type { Registry } from "../../schema/registry.ts";
import type { Alteration } from "../../schema/alter.ts";
import type { SchemaDoc } from "../../schema/types.ts";
import { type JsonValue, kindOf } from "../../schema/column-types/index.ts";
import type { ActionResponse, PerformerCall } from "../types.ts";
// A type-only import: erased at build time, so no import cycle at run time.
import type { ApplyReport } from "../../engine.ts";

/** A session token for an account as `Users.byEmail` reads it (signin, and login with a one-time password). */
export function sessionToken(ctx: PerformerContext, user: NonNullable<ReturnType<Users["byEmail"]>>): Promise<string> {
  return ctx.tokens.issue({ email: user.email!, name: user.name ?? "", referenceId: user.userRef!, authVersion: user.authVersion });
}

export interface PerformerContext {
  db: SqlDb;
  data: DataService;
  users: Users;
  tokens: Tokens;
  otp: Otp;
  /** Attempts at signin, codes, password reset and signup, per account and client address (429 when exceeded). */
  throttle: Throttle;
  mail: MailSender;
  registry(): Registry;
  /** The instance left bootstrap mode: defaults and caches must follow at once. */
  lockedDown(): void;
  /**
   * Applies schema documents on top of the stored definitions, live (the registry is swapped on success). `alter`
   * (a change to stored definitions and tables) runs first and `within` (rows written through the new registry)
   * last, in the same transaction: a throw anywhere leaves the database and the registry as they were.
   */
  applySchema(docs: SchemaDoc[], opts?: { alter?: Alteration; within?: () => void }): Promise<ApplyReport>;
  /** Re-reads the schema files the instance started with and applies them, live. */
  reload(): Promise<ApplyReport>;
  /** Delivers a message to the topic's subscribers (in process; `/live` later). */
  publish(topic: string, payload: Record<string, JsonValue>): void;
  /** The definitions in force: every table (its stored form), the relations and the actions. */
  schemaSnapshot(): Record<string, JsonValue>;
}

/**
 * A server function an outcome calls by name. Synchronous performers run inside the action's transaction;
 * `async` ones (signing a token) run between transactions: what the action wrote before them is committed first,
 * as Daptin does at its commit points.
 */
export type Performer =
  | { async?: false; run(call: PerformerCall, ctx: PerformerContext): ActionResponse[] }
  | { async: true; run(call: PerformerCall, ctx: PerformerContext): Promise<ActionResponse[]> };

/** An input as text. A list or object is refused (422): `String()` on a client's object can throw (a `toString` key). */
export const text = (v: unknown): string => {
  if (v === null || v === undefined) return "";
  if (typeof v === "object") throw validation("Validation failed", `expected text, not ${kindOf(v as JsonValue)}`);
  return String(v);
};

/** The table a `world` action acts on: its `world_id` subject, else the `table_name` attribute. */
export function targetTable(attributes: Record<string, JsonValue>, ctx: PerformerContext): string {
  const ref = attributes.world_id;
  if (typeof ref === "string" && ref !== "") {
    const world = ctx.data.table("world");
    const row = ctx.data.findRow(world, ref);
    const name = row ? ctx.data.readResource(world, row.id, ["table_name"]).attributes.table_name : undefined;
    if (typeof name === "string") return name;
  }
  const name = attributes.table_name;
  if (typeof name !== "string" || name === "") throw validation("Validation failed", "table_name is required", { pointer: "/attributes/table_name" });
  return name;
}
