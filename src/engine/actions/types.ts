// Actions: named operations on a table (spec 40). A call runs an ordered chain of outcomes and answers a list of
// client instructions.
import type { JsonValue } from "../schema/column-types/index.ts";
import type { Identity } from "../identity/identity.ts";
import type { GroupBinding, RuleDef } from "../schema/types.ts";

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

/** One step of an action (spec 40 section 2.3). */
export interface OutcomeDef {
  /** A table (CRUD methods), a performer (EXECUTE and custom methods) or a response type (ACTIONRESPONSE). */
  Type: string;
  Method: string;
  Reference?: string;
  Condition?: string;
  Attributes?: Record<string, JsonValue>;
  SkipInResponse?: boolean;
  LogToConsole?: boolean;
  ContinueOnError?: boolean;
}

/** The stored definition (`action.action_schema`), in Daptin's field names. */
export interface ActionDef {
  Name: string;
  Label: string;
  OnType: string;
  InstanceOptional: boolean;
  InFields: ActionInField[];
  OutFields: OutcomeDef[];
  Validations?: RuleDef[];
  Conformations?: RuleDef[];
  RequestSubjectRelations?: string[];
  /** Explicit permission; absent = the instance default (2097151 before lock-down, 2085120 after). */
  Permission?: number;
  AccessGroups?: GroupBinding[];
}

/** What a performer receives: the real caller (for its own checks), the evaluated input, and the action. */
export interface PerformerCall {
  who: Identity;
  action: ActionDef;
  attributes: Record<string, JsonValue>;
  /** Long-running performers (imports, random data) report how far they are (the CLI draws a progress bar). */
  progress?: Progress;
  /** The caller's network address when the call came over HTTP (throttles count attempts per address). */
  client?: string;
}

export type Progress = (done: number, total: number) => void;

export const notify = (type: "success" | "error" | "message", title: string, message: string): ActionResponse => ({
  ResponseType: "client.notify",
  Attributes: { __type: "client.notify", message, title, type },
});

export const download = (content: string, name: string, contentType: string, message: string): ActionResponse => ({
  ResponseType: "client.file.download",
  Attributes: { __type: "client.file.download", content: Buffer.from(content).toString("base64"), contentType, message, name },
});

export const redirect = (location: string, delay: number): ActionResponse => ({
  ResponseType: "client.redirect",
  Attributes: { __type: "client.redirect", delay, location, window: "self" },
});
