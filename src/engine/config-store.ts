// `_config`: the settings table (spec 10 section 8.4). Secrets live here and are never printed or returned.
import { sql } from "drizzle-orm";
import type { SqlDb } from "./db/dialect.ts";

export type ConfigType = "backend" | "frontend";

/** The proxies whose `X-Forwarded-For` the HTTP server believes (a JSON list of addresses; none by default). */
export const TRUSTED_PROXIES_KEY = "http.trusted_proxies";

export class ConfigStore {
  constructor(private readonly db: SqlDb) {}

  ensureTable(): void {
    this.db.run(sql.raw(`CREATE TABLE IF NOT EXISTS "_config" (
  id INTEGER not null PRIMARY KEY,
  name varchar(100) not null,
  configtype varchar(100) not null,
  configstate varchar(100) not null,
  configenv varchar(100) not null,
  value varchar(5000) null,
  valuetype varchar(100) null,
  previousvalue varchar(5000) null,
  created_at timestamp not null default current_timestamp,
  updated_at timestamp null)`));
  }

  get(name: string, type: ConfigType = "backend"): string | undefined {
    const row = this.db.get<{ value: string | null }>(
      sql`SELECT value FROM "_config" WHERE name = ${name} AND configtype = ${type} AND configenv = 'release' AND configstate = 'enabled'`,
    );
    return row?.value ?? undefined;
  }

  set(name: string, value: string, type: ConfigType = "backend"): void {
    const now = new Date().toISOString();
    const changed = this.db.run(sql`UPDATE "_config" SET previousvalue = value, value = ${value}, updated_at = ${now}
      WHERE name = ${name} AND configtype = ${type} AND configenv = 'release' AND configstate = 'enabled'`);
    if (changed.changes === 0) {
      this.db.run(sql`INSERT INTO "_config" (name, configtype, configstate, configenv, value, valuetype, created_at, updated_at)
        VALUES (${name}, ${type}, 'enabled', 'release', ${value}, 'string', ${now}, ${now})`);
    }
  }

  /** Sets the key only when it is missing; returns the stored value either way. */
  ensure(name: string, make: () => string, type: ConfigType = "backend"): string {
    const have = this.get(name, type);
    if (have !== undefined && have !== "") return have;
    const value = make();
    this.set(name, value, type);
    return value;
  }
}
