// Running an action: find it, pass the two gates (table + action row, then the subject row), run its performer.
import { sql } from "drizzle-orm";
import { isUuid } from "../data/ids.ts";
import { badRequest, forbidden, notFound } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import { can } from "../permission/check.ts";
import { rowInstance } from "../permission/instances.ts";
import type { JsonValue } from "../schema/column-types/index.ts";
import type { TableInfo } from "../schema/registry.ts";
import { becomeAdmin } from "./performers/become-admin.ts";
import type { Performer, PerformerContext } from "./performers/context.ts";
import { signin } from "./performers/signin.ts";
import { signup } from "./performers/signup.ts";
import type { ActionDef, ActionResponse } from "./types.ts";

const PERFORMERS: Record<string, Performer> = {
  signup,
  "jwt.token": signin,
  __become_admin: becomeAdmin,
};

export class ActionRunner {
  constructor(private readonly ctx: PerformerContext) {}

  /** The action row of (table, name), or a 404. */
  private load(type: string, name: string) {
    const row = this.ctx.db.get<{ id: number; permission: number; user_account_id: number | null; action_schema: string }>(
      sql`SELECT a.id, a.permission, a.user_account_id, a.action_schema FROM action a JOIN world w ON w.id = a.world_id
        WHERE w.table_name = ${type} AND a.action_name = ${name}`,
    );
    if (!row) throw notFound("No such action", `there is no action "${name}" on ${type}`);
    return row;
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

  async run(who: Identity, type: string, name: string, attributes: Record<string, JsonValue>): Promise<ActionResponse[]> {
    const table = this.ctx.registry().get(type);
    if (!table) throw notFound("Unknown table", `there is no table named "${type}"`);
    const row = this.load(type, name);
    const action = JSON.parse(row.action_schema) as ActionDef;
    if (!this.mayRun(who, table, this.ctx.registry().get("action")!, row)) throw forbidden("Forbidden", `you may not run ${name} on ${type}`);
    const subjectId = attributes[`${type}_id`];
    if (subjectId !== undefined && subjectId !== null && subjectId !== "") {
      if (!isUuid(subjectId)) throw badRequest("Invalid subject", `${type}_id must be a reference id (UUID)`);
      const subject = this.ctx.data.findRow(table, subjectId);
      if (!subject) throw badRequest("Invalid subject", `there is no ${type} with id ${subjectId}`);
      if (!can(who, "execute", rowInstance(this.ctx.db, table, subject, this.ctx.registry()))) {
        throw forbidden("Forbidden", `you may not run ${name} on this ${type}`);
      }
    } else if (!action.InstanceOptional) {
      throw badRequest("Missing subject", `${name} needs ${type}_id: the reference id of the ${type} to act on`);
    }
    const performer = PERFORMERS[action.Performer];
    if (!performer) throw notFound("No such action", `action ${name} has no performer "${action.Performer}"`);
    return performer({ who, action, attributes }, this.ctx);
  }
}
