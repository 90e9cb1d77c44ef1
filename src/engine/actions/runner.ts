// Running an action: find it, pass the two gates (table + action row, then the subject row), run its performer.
import { sql } from "drizzle-orm";
import { uuidToBytes, isUuid } from "../data/ids.ts";
import { badRequest, forbidden, notFound } from "../errors.ts";
import type { Identity } from "../identity/identity.ts";
import { can } from "../permission/check.ts";
import { rowInstance } from "../permission/instances.ts";
import type { TablePermissions } from "../permission/instances.ts";
import type { JsonValue } from "../schema/column-types/index.ts";
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
  constructor(
    private readonly ctx: PerformerContext,
    private readonly tablePermissions: TablePermissions,
  ) {}

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
        if (who.isAdmin) return true;
        const t = this.tablePermissions.of(r.table_name);
        return t !== null && can(who, "execute", t) && can(who, "execute", rowInstance(this.ctx.db, actionTable, r, this.ctx.registry()));
      })
      .map((r) => ({ table: r.table_name, action: JSON.parse(r.action_schema) as ActionDef }));
  }

  async run(who: Identity, type: string, name: string, attributes: Record<string, JsonValue>): Promise<ActionResponse[]> {
    const table = this.ctx.registry().get(type);
    if (!table) throw notFound("Unknown table", `there is no table named "${type}"`);
    const row = this.load(type, name);
    const action = JSON.parse(row.action_schema) as ActionDef;
    if (!who.isAdmin) {
      const tableInst = this.tablePermissions.of(type);
      const actionInst = rowInstance(this.ctx.db, this.ctx.registry().get("action")!, row, this.ctx.registry());
      if (!tableInst || !can(who, "execute", tableInst) || !can(who, "execute", actionInst)) {
        throw forbidden("Forbidden", `you may not run ${name} on ${type}`);
      }
    }
    const subjectId = attributes[`${type}_id`];
    if (subjectId !== undefined && subjectId !== null && subjectId !== "") {
      if (!isUuid(subjectId)) throw badRequest("Invalid subject", `${type}_id must be a reference id (UUID)`);
      const owner = table.hasOwner ? sql`, user_account_id` : sql``;
      const subject = this.ctx.db.get<{ id: number; permission: number; user_account_id?: number | null }>(
        sql`SELECT id, permission${owner} FROM ${sql.identifier(type)} WHERE reference_id = ${uuidToBytes(subjectId)}`,
      );
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
