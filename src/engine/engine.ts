// The engine: opens a database, loads and applies schemas, and serves data calls through one permission gate.
// It knows nothing of HTTP or the command line; adapters call it with an explicit identity.
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { sql } from "drizzle-orm";
import { hasAdministrator, seedConfig, seedIfEmpty, syncWorld, type WorldChange } from "./bootstrap.ts";
import { ConfigStore } from "./config-store.ts";
import { DataService, type WriteEvent } from "./data/crud.ts";
import type { SqlDb } from "./db/dialect.ts";
import { DdlError } from "./db/ddl.ts";
import { applyPlan, planMigration, type Plan } from "./db/migrate.ts";
import { openSqlite } from "./db/sqlite.ts";
import { DaptinError, notFound, schemaError } from "./errors.ts";
import { bytesToUuid } from "./data/ids.ts";
import { ALLOW_ALL_PERMISSIONS, DEFAULT_PERMISSION } from "./permission/bits.ts";
import { rowInstance, TablePermissions } from "./permission/instances.ts";
import { OPERATIONS, type Operation } from "./permission/bits.ts";
import { explain, type Verdict } from "./permission/check.ts";
import { mergeDocs, readSchemaFile, systemSchema } from "./schema/load.ts";
import { mergeTable } from "./schema/merge.ts";
import { Registry, RegistryError } from "./schema/registry.ts";
import type { SchemaDoc, TableDef } from "./schema/types.ts";
import { storedDefinitions, worldSchemaJson } from "./schema/world.ts";
import type { JsonValue } from "./schema/column-types/index.ts";
import { BUILTIN_ACTIONS } from "./actions/builtin.ts";
import type { ActionDef } from "./actions/types.ts";
import { ActionRunner } from "./actions/runner.ts";
import { syncActions } from "./actions/sync.ts";
import { GUEST, SYSTEM, type Identity } from "./identity/identity.ts";
import { Tokens } from "./identity/jwt.ts";
import { Users } from "./identity/users.ts";
import { Otp } from "./identity/otp.ts";
import { Throttle, THROTTLE_CONFIG_KEY, throttleSettings } from "./identity/throttle.ts";
import { LogMailSender, type MailSender, mailSenderFor } from "./mail/sender.ts";

export interface EngineConfig {
  dbType: "sqlite";
  /** SQLite file path (or `:memory:`). */
  db: string;
  /** How long a write waits for another connection's write lock (default 5 s). */
  busyTimeoutMs?: number;
}

export interface OpenOptions {
  /** Schema files applied on top of the system schema and the stored definitions. */
  schemaFiles?: string[];
  /** Already-parsed documents (tests, uploads) applied after the files. */
  schemaDocs?: SchemaDoc[];
  /** Plan only: report what would change and leave the database as it was. */
  dryRun?: boolean;
  /**
   * Describe the database as stored, without bringing it up to date (read-only commands such as `apispec`).
   * A database that is not initialised, or lacks a table the registry expects, is still migrated first.
   */
  asStored?: boolean;
  /** The database must exist and be one this engine wrote: nothing is created ("no database at PATH"). */
  existing?: boolean;
  /**
   * Open the file read-only (implies `existing` and `asStored`): the connection never takes the write lock, so a
   * writer elsewhere does not hold it up. A database that needs migrating first is migrated once, read-write.
   */
  readOnly?: boolean;
}

export interface ApplyReport {
  plan: Plan;
  world: WorldChange[];
  warnings: string[];
  applied: boolean;
  seeded: boolean;
}

export type ChangeListener = (event: WriteEvent) => void;

export class Engine {
  readonly config: ConfigStore;
  readonly data: DataService;
  readonly tablePermissions: TablePermissions;
  readonly users: Users;
  readonly actions: ActionRunner;
  private tokensValue!: Tokens;
  private registryValue!: Registry;
  private adminExists = false;
  private schemaHash = "";
  private listeners: ChangeListener[] = [];
  private topicListeners: ((topic: string, payload: Record<string, JsonValue>) => void)[] = [];
  private generationValue = 0;
  /** When `syncWithDatabase` last asked the database (performance.now()). */
  private lastSync = -Infinity;
  private encryptionSecret: string | undefined;
  private mailSender: MailSender = new LogMailSender();
  /** The schema files this engine was opened with (`restart_daptin` re-reads them). */
  private schemaFiles: string[] = [];
  /** Attempts at signin, codes, password reset and signup (settings re-read with the others). */
  private readonly throttle = new Throttle();
  /** `_config` backend values read by `setting`, forgotten whenever settings may have changed. */
  private readonly settings = new Map<string, string | undefined>();

  private constructor(readonly db: SqlDb) {
    this.config = new ConfigStore(db);
    this.tablePermissions = new TablePermissions(db);
    this.data = new DataService({
      db,
      registry: () => this.registryValue,
      tablePermissions: this.tablePermissions,
      defaultRowPermission: () => (this.adminExists ? DEFAULT_PERMISSION : ALLOW_ALL_PERMISSIONS),
      encryptionSecret: () => this.encryptionSecret,
      afterCommit: (e) => {
        // What a write changed: its table, the tables it wrote links into, and for a delete every table its cascades
        // reach. Each cache built from those tables goes.
        const touched = e.type === "delete" ? [...this.registryValue.deleteReaches(e.table)] : [e.table, ...(e.also ?? [])];
        const writes = (pattern: RegExp) => touched.some((t) => pattern.test(t));
        const identities = writes(/^(user_account|usergroup)$|^user_account_user_account_id_has_usergroup/);
        if (identities) this.users.invalidate();
        // Table-level permissions live in `world` and its group grants.
        if (writes(/^world$|^world_world_id_has_usergroup/)) this.tablePermissions.invalidate();
        const actions = writes(/^(world|action)$|^(world_world|action_action)_id_has_usergroup/);
        if (actions) this.actions.invalidate();
        if (identities || actions) this.generationValue++;
        for (const l of this.listeners) l(e);
      },
    });
    this.users = new Users(db);
    const engine = this;
    this.actions = new ActionRunner(
      {
        db,
        data: this.data,
        users: this.users,
        // Tokens and the mail sender are replaced when settings are re-read; performers always see the current ones.
        get tokens() {
          return engine.tokensValue;
        },
        registry: () => this.registryValue,
        otp: new Otp(db, this.data, this.users, () => this.encryptionSecret, this.throttle),
        throttle: this.throttle,
        get mail() {
          return engine.mailSender;
        },
        lockedDown: () => this.refreshState(),
        applySchema: (docs) => this.applySchema({ schemaDocs: docs }),
        reload: () => this.applySchema({ schemaFiles: this.schemaFiles }),
        schemaSnapshot: () => this.schemaSnapshot(),
        publish: (topic, payload) => {
          for (const l of this.topicListeners) l(topic, payload);
        },
      },
    );
  }

  get tokens(): Tokens {
    return this.tokensValue;
  }

  /** The caller a token stands for: no token is a guest; a bad or stale token is a 401 that says why. */
  async identify(token: string | null | undefined): Promise<Identity> {
    if (!token) return GUEST;
    return this.users.fromClaims(await this.tokensValue.verify(token));
  }

  /**
   * The caller of action (type, name). As `identify`, except that on an action a guest may run (signin; signup and
   * password reset while open) a token that cannot be used means a guest instead of a 401: a client holding a stale
   * or foreign token can still sign in again. Which actions those are follows from their permissions.
   */
  async identifyForAction(token: string | null | undefined, type: string, name: string): Promise<Identity> {
    try {
      return await this.identify(token);
    } catch (e) {
      if (e instanceof DaptinError && e.kind === "unauthorized" && this.actions.guestMayRun(type, name)) return GUEST;
      throw e;
    }
  }

  /**
   * A `_config` backend setting, read once and remembered until settings may have changed (lock-down, another
   * process's write): adapters may ask on every request.
   */
  setting(name: string): string | undefined {
    if (!this.settings.has(name)) this.settings.set(name, this.config.get(name));
    return this.settings.get(name);
  }

  /** Whether the instance left bootstrap mode (someone became administrator). */
  get lockedDown(): boolean {
    return this.adminExists;
  }

  get registry(): Registry {
    return this.registryValue;
  }

  /** Opens the database and brings its schema up to date. Throws DaptinError("schema") with nothing applied on refusal. */
  static open(cfg: EngineConfig, opts: OpenOptions = {}): { engine: Engine; report: ApplyReport } {
    if (cfg.dbType !== "sqlite") throw schemaError("Unsupported database", `db type "${cfg.dbType}" is not supported yet (use sqlite)`);
    const existing = opts.existing || opts.readOnly;
    const noDatabase = (detail: string, code: string) => new DaptinError("not_found", "No database", { detail, code });
    if (existing && cfg.db !== ":memory:" && !existsSync(cfg.db)) throw noDatabase(`no database at ${cfg.db}`, "no_database");
    const start = (readonly: boolean) => {
      const db = openSqlite(cfg.db, { readonly, busyTimeoutMs: cfg.busyTimeoutMs });
      const engine = new Engine(db);
      engine.schemaFiles = opts.schemaFiles ?? [];
      return engine;
    };
    let engine = start(opts.readOnly === true);
    try {
      if (existing && !engine.hasTable("world")) throw noDatabase(`${cfg.db} is not a daptin database (it has no world table)`, "not_a_daptin_database");
      let report = (opts.asStored || opts.readOnly) && engine.openAsStored();
      if (!report && opts.readOnly) {
        engine.close();
        engine = start(false);
      }
      report ||= engine.applySchema(opts);
      return { engine, report };
    } catch (e) {
      engine.close();
      throw e;
    }
  }

  private hasTable(name: string): boolean {
    return this.db.get(sql`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ${name}`) !== undefined;
  }

  private buildRegistry(docs: SchemaDoc[]): { registry: Registry; warnings: string[]; actions: ActionDef[] } {
    const merged = mergeDocs([systemSchema(), ...docs]);
    const config = new Map(merged.tables.map((t) => [t.TableName, t]));
    const tables: TableDef[] = [];
    for (const stored of storedDefinitions(this.db)) {
      const fromFile = config.get(stored.TableName);
      tables.push(fromFile ? mergeTable(stored, fromFile, "full") : stored);
      config.delete(stored.TableName);
    }
    tables.push(...config.values());
    try {
      return { registry: new Registry(tables, merged.relations), warnings: merged.warnings, actions: merged.actions };
    } catch (e) {
      if (e instanceof RegistryError) throw schemaError("Invalid schema", e.message);
      throw e;
    }
  }

  private applySchema(opts: OpenOptions): ApplyReport {
    this.config.ensureTable();
    const docs = [...(opts.schemaFiles ?? []).map(readSchemaFile), ...(opts.schemaDocs ?? [])];
    const { registry, warnings, actions } = this.buildRegistry(docs);
    let plan: Plan;
    try {
      plan = planMigration(this.db, registry);
    } catch (e) {
      if (e instanceof DdlError) throw schemaError("Invalid schema", e.message);
      throw e;
    }
    if (plan.refusals.length > 0) {
      const lines = plan.refusals.map((r) => `${r.table}${r.column ? `.${r.column}` : ""}: ${r.reason}`);
      throw new DaptinError("schema", "Schema change refused", { detail: lines.join("\n") });
    }
    if (opts.dryRun) {
      // World changes of a dry run are computed inside a transaction that is rolled back.
      let world: WorldChange[] = [];
      try {
        this.db.transaction(() => {
          applyPlan(this.db, plan);
          seedIfEmpty(this.db);
          world = syncWorld(this.db, registry);
          throw new RollBack();
        });
      } catch (e) {
        if (!(e instanceof RollBack)) throw e;
      }
      this.registryValue = registry;
      return { plan, world, warnings, applied: false, seeded: false };
    }
    let world: WorldChange[] = [];
    let seeded = false;
    this.db.transaction(() => {
      try {
        applyPlan(this.db, plan);
      } catch (e) {
        const c = this.db.constraintOf(e);
        if (!c) throw e;
        throw new DaptinError("schema", "Schema change refused", {
          detail: c.kind === "unique" ? `${c.detail.replace(/^.*failed: /, "")}: existing rows have duplicate values, so a unique index cannot be created` : c.detail,
        });
      }
      seeded = seedIfEmpty(this.db);
      world = syncWorld(this.db, registry);
      syncActions(this.db, [...BUILTIN_ACTIONS, ...actions], hasAdministrator(this.db));
      seedConfig(this.config);
      this.schemaHash = this.computeSchemaHash();
      this.config.set("schema.hash", this.schemaHash);
    });
    this.registryValue = registry;
    this.db.forgetPrepared();
    this.refreshState();
    return { plan, world, warnings, applied: true, seeded };
  }

  /** The registry from the stored definitions alone; null when the database needs migrating first. */
  private openAsStored(): ApplyReport | null {
    const tables = new Set(this.db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'table'`).map((r) => r.name));
    if (!tables.has("_config") || !tables.has("world")) return null;
    const hash = this.config.get("schema.hash");
    if (!hash) return null;
    const { registry, warnings } = this.buildRegistry([]);
    for (const t of registry.tables.keys()) if (!tables.has(t)) return null;
    this.schemaHash = hash;
    this.registryValue = registry;
    this.refreshState();
    return { plan: { steps: [], refusals: [] }, world: [], warnings, applied: false, seeded: false };
  }

  private computeSchemaHash(): string {
    const rows = this.db.all<{ j: string }>(sql`SELECT world_schema_json AS j FROM world ORDER BY table_name`);
    const h = createHash("sha1");
    for (const r of rows) h.update(r.j);
    return h.digest("hex");
  }

  /** Changes whenever what a caller may see could have changed: schema, permissions, memberships. */
  get generation(): number {
    return this.generationValue;
  }

  private refreshState(): void {
    this.generationValue++;
    this.adminExists = hasAdministrator(this.db);
    this.tablePermissions.invalidate();
    this.users.invalidate();
    this.actions.invalidate();
    // Rows changed behind the data service (lock-down's plain SQL, another process, a schema change): remembered
    // totals and pages may no longer hold.
    this.data.forgetLists();
    this.settings.clear();
    this.throttle.configure(throttleSettings(this.config.get(THROTTLE_CONFIG_KEY)));
    this.encryptionSecret = this.config.get("encryption.secret");
    this.mailSender = mailSenderFor(this.config.get("mail.smtp.url"));
    this.tokensValue = new Tokens({
      secret: this.config.get("jwt.secret")!,
      issuer: this.config.get("jwt.token.issuer")!,
      lifetimeHours: Number(this.config.get("jwt.token.life.hours") ?? 72) || 72,
    });
  }

  /**
   * Another process (the CLI next to a running server) may have changed the database. Cheap when nothing
   * changed: one PRAGMA, and at most once per millisecond (the PRAGMA costs as much as a small query; under load
   * a change made elsewhere is still seen within a millisecond). Reloads the registry only when the stored schema changed.
   */
  syncWithDatabase(): void {
    const now = performance.now();
    if (now - this.lastSync < 1) return;
    this.lastSync = now;
    if (!this.db.changedElsewhere()) return;
    this.refreshState();
    const hash = this.config.get("schema.hash") ?? "";
    if (hash !== this.schemaHash) {
      this.schemaHash = hash;
      this.registryValue = this.buildRegistry([]).registry;
      this.db.forgetPrepared();
    }
  }

  /** Every operation's verdict for a caller on a table (its world row) or one of its rows. */
  explain(who: Identity, tableName: string, rowId?: string): { permission: number; verdicts: Record<Operation, Verdict> } {
    const table = this.data.table(tableName);
    let inst = this.tablePermissions.of(table.name)!;
    if (rowId !== undefined) {
      const row = this.data.loadRow(table, rowId);
      inst = rowInstance(this.db, table, row, this.registryValue);
    }
    const verdicts = Object.fromEntries(OPERATIONS.map((op) => [op, explain(who, op, inst)])) as Record<Operation, Verdict>;
    return { permission: inst.permission, verdicts };
  }

  /**
   * Where a permission lives: a table's `world` row, one row of a table, or an action row. Returns the
   * (table, reference id) to update through the normal data path.
   */
  permissionTarget(tableName: string, opts: { row?: string; action?: string } = {}): { table: string; id: string } {
    const table = this.data.table(tableName);
    if (opts.row !== undefined) return { table: table.name, id: opts.row };
    const ref = opts.action !== undefined
      ? this.db.get<{ r: Uint8Array }>(sql`SELECT a.reference_id AS r FROM action a JOIN world w ON w.id = a.world_id WHERE w.table_name = ${table.name} AND a.action_name = ${opts.action}`)
      : this.db.get<{ r: Uint8Array }>(sql`SELECT reference_id AS r FROM world WHERE table_name = ${table.name}`);
    if (!ref) throw notFound("Not found", opts.action !== undefined ? `there is no action "${opts.action}" on ${table.name}` : `table ${table.name} has no world row`);
    return { table: opts.action !== undefined ? "action" : "world", id: bytesToUuid(ref.r)! };
  }

  /** Every table's stored definition, the relations and the actions: what `download_system_schema` hands out. */
  schemaSnapshot(): Record<string, JsonValue> {
    const tables = [...this.registryValue.tables.values()]
      .filter((t) => !t.isJoin)
      .map((t) => JSON.parse(worldSchemaJson(t, this.registryValue.relations.filter((r) => r.Subject === t.name))) as JsonValue);
    const actions = this.actions.visible(SYSTEM).map((a) => a.action as unknown as JsonValue);
    return { Tables: tables, Actions: actions };
  }

  onChange(listener: ChangeListener): void {
    this.listeners.push(listener);
  }

  /** Messages published to topics (publish_to_topic); the realtime endpoint subscribes here. */
  onTopic(listener: (topic: string, payload: Record<string, JsonValue>) => void): void {
    this.topicListeners.push(listener);
  }

  close(): void {
    this.db.close();
  }
}

class RollBack extends Error {}
