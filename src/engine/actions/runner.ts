// Running an action: find it, pass the two gates (table + action row, then the subject row), validate and conform
// its inputs, build the expression context, and run its outcome chain.
import { sql } from "drizzle-orm";
import { isUuid } from "../data/ids.ts";
import { badRequest, forbidden, notFound } from "../errors.ts";
import { GUEST, type Identity } from "../identity/identity.ts";
import { can } from "../permission/check.ts";
import { rowInstance } from "../permission/instances.ts";
import type { JsonValue } from "../schema/column-types/index.ts";
import type { TableInfo } from "../schema/registry.ts";
import { becomeAdmin } from "./performers/become-admin.ts";
import type { Performer, PerformerContext } from "./performers/context.ts";
import { signin } from "./performers/signin.ts";
import { signup } from "./performers/signup.ts";
import { exportCsvData, exportData } from "./performers/export.ts";
import { generateRandomData } from "./performers/random-data.ts";
import { importData, uploadCsvToSchema, uploadXlsToSchema } from "./performers/import.ts";
import { otpGenerate, otpVerify, resetBegin, resetVerify } from "./performers/otp.ts";
import { publishToTopic } from "./performers/topic.ts";
import {
  downloadSchema, removeColumnPerformer, removeTablePerformer, renameColumnPerformer, restart, uploadSchema,
} from "./performers/schema.ts";
import { checkTags, conform } from "../data/rules.ts";
import { validation } from "../errors.ts";
import { type Context, hasScript } from "./expressions.ts";
import { OutcomeChain } from "./outcomes.ts";
import { loadSandbox } from "./sandbox.ts";
import type { ActionDef, ActionResponse, Progress } from "./types.ts";

const PERFORMERS: Record<string, Performer> = {
  signup,
  "jwt.token": signin,
  __become_admin: becomeAdmin,
  __download_cms_config: downloadSchema,
  system_json_schema_update: uploadSchema,
  __restart: restart,
  "world.column.delete": removeColumnPerformer,
  "world.column.rename": renameColumnPerformer,
  "world.delete": removeTablePerformer,
  __data_export: exportData,
  __csv_data_export: exportCsvData,
  "generate.random.data": generateRandomData,
  __data_import: importData,
  __upload_csv_file_to_entity: uploadCsvToSchema,
  __upload_xlsx_file_to_entity: uploadXlsToSchema,
  "otp.generate": otpGenerate,
  "otp.login.verify": otpVerify,
  "password.reset.begin": resetBegin,
  "password.reset.verify": resetVerify,
  __publish_to_topic: publishToTopic,
};

/** An action row as the runner needs it: its gate facts and its parsed definition. */
interface LoadedAction {
  id: number;
  permission: number;
  user_account_id: number | null;
  action: ActionDef;
  /** Whether an outcome uses JavaScript (only then is the WebAssembly sandbox loaded). */
  scripted: boolean;
  /** Whether an expression may read the caller's row (`user`): scripts may, paths naming `user` do. */
  readsUser: boolean;
}

export class ActionRunner {
  private readonly chain: OutcomeChain;
  /** "table/name" -> loaded action; forgotten on any write to actions or tables (see `invalidate`). */
  private readonly loaded = new Map<string, LoadedAction | null>();

  constructor(private readonly ctx: PerformerContext) {
    this.chain = new OutcomeChain(ctx, PERFORMERS);
  }

  /** Forgets loaded actions: after a write to `action`, `world` or their grants, or another process's change. */
  invalidate(): void {
    this.loaded.clear();
  }

  /** The action of (table, name), or a 404. Read once, then remembered until actions change (edits apply at once). */
  private load(type: string, name: string): LoadedAction {
    const key = `${type}/${name}`;
    let found = this.loaded.get(key);
    if (found === undefined) {
      const row = this.ctx.db
        .prepare("action:load", () => sql`SELECT a.id, a.permission, a.user_account_id, a.action_schema FROM action a JOIN world w ON w.id = a.world_id
          WHERE w.table_name = ${sql.placeholder("type")} AND a.action_name = ${sql.placeholder("name")}`)
        .get<{ id: number; permission: number; user_account_id: number | null; action_schema: string }>({ type, name });
      if (row) {
        const action = JSON.parse(row.action_schema) as ActionDef;
        const scripted = (action.OutFields ?? []).some((o) => hasScript(o.Attributes) || hasScript(o.Condition));
        const readsUser = scripted || /\buser\b/.test(JSON.stringify((action.OutFields ?? []).map((o) => [o.Attributes, o.Condition])));
        found = { id: row.id, permission: row.permission, user_account_id: row.user_account_id, action, scripted, readsUser };
      } else found = null;
      if (this.loaded.size >= 1000) this.loaded.clear();
      this.loaded.set(key, found);
    }
    if (!found) throw notFound("No such action", `there is no action "${name}" on ${type}`);
    return found;
  }

  /** Every action the caller may run (all of them for administrators), with its table. */
  visible(who: Identity): { table: string; action: ActionDef }[] {
    const rows = this.ctx.db.all<{ table_name: string; id: number; permission: number; user_account_id: number | null; action_schema: string }>(
      sql`SELECT w.table_name, a.id, a.permission, a.user_account_id, a.action_schema FROM action a JOIN world w ON w.id = a.world_id ORDER BY w.table_name, a.action_name`,
    );
    const actionTable = this.ctx.registry().get("action")!;
    return rows
      .filter((r) => {
        const table = this.ctx.registry().get(r.table_name);
        return table !== undefined && this.mayRun(who, table, actionTable, r);
      })
      .map((r) => ({ table: r.table_name, action: JSON.parse(r.action_schema) as ActionDef }));
  }

  /** The two gates of an action: execute on its table and on the action row. */
  private mayRun(who: Identity, table: TableInfo, actionTable: TableInfo, row: { id: number; permission: number; user_account_id: number | null }): boolean {
    if (who.isAdmin) return true;
    return this.ctx.data.allowedOnTable(who, "execute", table) && can(who, "execute", rowInstance(this.ctx.db, actionTable, row, this.ctx.registry()));
  }

  /**
   * Whether a guest passes the gates of (table, action): an action open to guests (signin; signup and password reset
   * while the instance is open). There a token that cannot be used means a guest, so a client holding a stale token
   * can sign in again.
   */
  guestMayRun(type: string, name: string): boolean {
    const table = this.ctx.registry().get(type);
    if (!table) return false;
    let row: LoadedAction;
    try {
      row = this.load(type, name);
    } catch {
      return false;
    }
    return this.mayRun(GUEST, table, this.ctx.registry().get("action")!, row);
  }

  /** `call.client`: the caller's network address, when the call came over HTTP (for the authentication throttle). */
  async run(
    who: Identity, type: string, name: string, attributes: Record<string, JsonValue>, progress?: Progress, call: { client?: string } = {},
  ): Promise<ActionResponse[]> {
    const table = this.ctx.registry().get(type);
    if (!table) throw notFound("Unknown table", `there is no table named "${type}"`);
    const row = this.load(type, name);
    const action = row.action;
    if (!this.mayRun(who, table, this.ctx.registry().get("action")!, row)) throw forbidden("Forbidden", `you may not run ${name} on ${type}`);
    if (row.scripted) await loadSandbox();
    const ctx: Context = {};
    const subjectId = attributes[`${type}_id`];
    if (subjectId !== undefined && subjectId !== null && subjectId !== "") {
      if (!isUuid(subjectId)) throw badRequest("Invalid subject", `${type}_id must be a reference id (UUID)`);
      const subject = this.ctx.data.findRow(table, subjectId);
      if (!subject) {
        // Missing is said only to those who may see the table exists (as for a row read through /api).
        if (!this.ctx.data.canPeek(who, table)) throw forbidden("Forbidden", `you may not run ${name} on this ${type}`);
        throw notFound("Not found", `there is no ${type} with id ${subjectId}`);
      }
      if (!can(who, "execute", rowInstance(this.ctx.db, table, subject, this.ctx.registry()))) {
        throw forbidden("Forbidden", `you may not run ${name} on this ${type}`);
      }
      // The subject as expressions see it: its attributes (never hashes or ciphertexts of secrets) and ids.
      const resource = this.ctx.data.readResource(table, subject.id, undefined, false);
      ctx.subject = { ...this.ctx.data.hiddenDefinitions(table, subject.id), ...resource.attributes, id: subject.id, reference_id: resource.id, __type: type };
      ctx[`${type}_id`] = resource.id;
    } else if (!action.InstanceOptional) {
      throw badRequest("Missing subject", `${name} needs ${type}_id: the reference id of the ${type} to act on`);
    }
    const input = this.validate(action, attributes);
    for (const f of action.InFields ?? []) ctx[f.ColumnName || f.Name] = input[f.ColumnName || f.Name] ?? "";
    ctx.attributes = input;
    if (who.userId !== null && row.readsUser) {
      const me = this.ctx.data.readResource(this.ctx.registry().get("user_account")!, who.userId, undefined, false);
      ctx.user = { ...me.attributes, id: who.userId };
    }
    return this.chain.run({ who, action, attributes: input, ctx, progress, client: call.client });
  }

  /** Action Validations (first failure is a 422 naming the field and rule), then Conformations. */
  private validate(action: ActionDef, attributes: Record<string, JsonValue>): Record<string, JsonValue> {
    const out = { ...attributes };
    for (const r of action.Validations ?? []) {
      const message = checkTags(r.ColumnName, r.Tags, out[r.ColumnName] ?? "", out);
      if (message) throw validation("Validation failed", message, { pointer: `/attributes/${r.ColumnName}` });
    }
    for (const r of action.Conformations ?? []) if (r.ColumnName in out) out[r.ColumnName] = conform(r.Tags, out[r.ColumnName]!);
    return out;
  }
}
