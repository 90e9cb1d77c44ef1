// What a built-in performer may use. Performers check authorisation against the real caller themselves.
import type { DataService } from "../../data/crud.ts";
import type { SqlDb } from "../../db/dialect.ts";
import type { Tokens } from "../../identity/jwt.ts";
import type { Users } from "../../identity/users.ts";
import type { Registry } from "../../schema/registry.ts";
import type { ActionCall, ActionResponse } from "../types.ts";

export interface PerformerContext {
  db: SqlDb;
  data: DataService;
  users: Users;
  tokens: Tokens;
  registry(): Registry;
  /** The instance left bootstrap mode: defaults and caches must follow at once. */
  lockedDown(): void;
}

export type Performer = (call: ActionCall, ctx: PerformerContext) => Promise<ActionResponse[]>;

export const text = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
