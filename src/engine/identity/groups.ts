// User groups as an operator manages them (`daptin group create|add-user|list`): reads straight from the tables
// this module owns, writes through the data service as the system (versions, list totals and caches follow).
import { sql } from "drizzle-orm";
import { ADMINISTRATORS, hasAdministrator } from "../bootstrap.ts";
import type { DataService } from "../data/crud.ts";
import { bytesToUuid } from "../data/ids.ts";
import type { SqlDb } from "../db/dialect.ts";
import { forbidden, notFound } from "../errors.ts";
import { SYSTEM } from "./identity.ts";

export interface GroupSummary {
  name: string;
  reference_id: string;
  /** Emails of the members, in order. */
  members: string[];
}

export class Groups {
  constructor(
    private readonly db: SqlDb,
    private readonly data: DataService,
  ) {}

  /** Every (user id, group name) membership. */
  memberships(): { userId: number; email: string; group: string }[] {
    return this.db.all<{ userId: number; email: string; group: string }>(sql`SELECT u.id AS userId, u.email, g.name AS "group"
      FROM user_account_user_account_id_has_usergroup_usergroup_id m
      JOIN user_account u ON u.id = m.user_account_id JOIN usergroup g ON g.id = m.usergroup_id ORDER BY g.name, u.email`);
  }

  list(): GroupSummary[] {
    const members = new Map<string, string[]>();
    for (const m of this.memberships()) members.set(m.group, [...(members.get(m.group) ?? []), m.email]);
    return this.db
      .all<{ name: string; ref: Uint8Array }>(sql`SELECT name, reference_id AS ref FROM usergroup ORDER BY name`)
      .map((g) => ({ name: g.name, reference_id: bytesToUuid(g.ref)!, members: members.get(g.name) ?? [] }));
  }

  find(name: string): GroupSummary | undefined {
    return this.list().find((g) => g.name === name);
  }

  async create(name: string): Promise<GroupSummary> {
    const created = await this.data.create(SYSTEM, "usergroup", { attributes: { name } });
    return { name, reference_id: created.id, members: [] };
  }

  /** Adds the user (by reference id) to the group; false when they were a member already (nothing written). */
  async addMember(groupName: string, userRef: string, email: string): Promise<boolean> {
    const group = this.find(groupName);
    if (!group) throw notFound("Unknown group", `there is no group named "${groupName}"`);
    if (group.members.includes(email)) return false;
    // A member of administrators without the lock-down would leave every table open while the engine believes it
    // locked (and become_an_administrator could not run any more).
    if (group.name === ADMINISTRATORS && !hasAdministrator(this.db)) {
      throw forbidden("Forbidden", "the first administrator is made by become_an_administrator (`daptin become-admin`), which locks the instance down");
    }
    await this.data.relations.write(SYSTEM, "user_account", userRef, "usergroup_id", "add", [{ id: group.reference_id }]);
    return true;
  }
}
