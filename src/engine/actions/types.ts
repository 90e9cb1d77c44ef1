// Actions: named operations on a table (spec 40). A call answers a list of client instructions.
import type { JsonValue } from "../schema/column-types/index.ts";
import type { Identity } from "../identity/identity.ts";

export interface ActionResponse {
  ResponseType: string;
  Attributes: Record<string, JsonValue> | null;
}

export interface ActionInField {
  Name: string;
  ColumnName: string;
  ColumnType: string;
  IsNullable?: boolean;
}

/** The stored definition (`action.action_schema`), in Daptin's field names. */
export interface ActionDef {
  Name: string;
  Label: string;
  OnType: string;
  InstanceOptional: boolean;
  InFields: ActionInField[];
  /** Built-in performer that does the work (the general outcome engine comes with the actions issue). */
  Performer: string;
  /** Explicit permission; absent = the instance default (2097151 before lock-down, 2085120 after). */
  Permission?: number;
}

export interface ActionCall {
  who: Identity;
  action: ActionDef;
  attributes: Record<string, JsonValue>;
}

export const notify = (type: "success" | "error" | "message", title: string, message: string): ActionResponse => ({
  ResponseType: "client.notify",
  Attributes: { __type: "client.notify", message, title, type },
});

export const redirect = (location: string, delay: number): ActionResponse => ({
  ResponseType: "client.redirect",
  Attributes: { __type: "client.redirect", delay, location, window: "self" },
});
