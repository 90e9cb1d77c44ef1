// What a built-in performer may use. Performers check authorisation against the real caller themselves.
import type { DataService } from "../../data/crud.ts";
import type { SqlDb } from "../../db/dialect.ts";
import type { Tokens } from "../../identity/jwt.ts";
import type { Users } from "../../identity/users.ts";
import type { Registry } from "../../schema/registry.ts";
import type { ActionResponse, PerformerCall } from "../types.ts";

export interface PerformerContext {
  db: SqlDb;
  data: DataService;
  users: Users;
  tokens: Tokens;
  registry(): Registry;
  /** The instance left bootstrap mode: defaults and caches must follow at once. */
  lockedDown(): void;
}

/**
 * A server function an outcome calls by name. Synchronous performers run inside the action's transaction;
 * `async` ones (signing a token) run between transactions: what the action wrote before them is committed first,
 * as Daptin does at its commit points.
 */
export type Performer =
  | { async?: false; run(call: PerformerCall, ctx: PerformerContext): ActionResponse[] }
  | { async: true; run(call: PerformerCall, ctx: PerformerContext): Promise<ActionResponse[]> };

export const text = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
