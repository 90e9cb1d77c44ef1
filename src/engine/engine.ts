// The engine: opens a database, loads and applies schemas, and serves data calls through one permission gate.
// It knows nothing of HTTP or the command line; adapters call it with an explicit identity.
import { existsSync } from "node:fs";
import { sql } from "drizzle-orm";
import {
  discardStagedWorld, ensureGroups, hasAdministrator, schemaHashOf, seedConfig, seedIfEmpty, stageWorldRows, syncWorld, type WorldAhead, type WorldChange,
} from "./bootstrap.ts";
import { ConfigStore } from "./config-store.ts";
import { DataService, type WriteEvent } from "./data/crud.ts";
import type { SqlDb } from "./db/dialect.ts";
import { DdlError } from "./db/ddl.ts";
import { applyPlan, planMigration, planning, type Plan, type PlanStep } from "./db/migrate.ts";
import { openSqlite } from "./db/sqlite.ts";
import { conflict, DaptinError, notFound, schemaError, validation } from "./errors.ts";
import { bytesToUuid } from "./data/ids.ts";
import { ALLOW_ALL_PERMISSIONS, DEFAULT_PERMISSION } from "./permission/bits.ts";
import { rowInstance, TablePermissions } from "./permission/instances.ts";
import { OPERATIONS, type Operation } from "./permission/bits.ts";
import { explain, type Verdict } from "./permission/check.ts";
import { mergeDocs, readSchemaFile, systemSchema } from "./schema/load.ts";
import { mergeTable } from "./schema/merge.ts";
import { Registry, RegistryError } from "./schema/registry.ts";
import type { SchemaDoc, TableDef } from "./schema/types.ts";
import { skippedWarning, storedDefinitionPieces, worldSchemaJson } from "./schema/world.ts";
import { decodeSchema, SchemaDecodeError, SchemaParseError } from "./schema/parse.ts";
import type { Alteration } from "./schema/alter.ts";
import { SAFE_IDENTIFIER } from "./schema/names.ts";
import type { JsonValue } from "./schema/column-types/index.ts";
import { BUILTIN_ACTIONS } from "./actions/builtin.ts";
import type { ActionDef } from "./actions/types.ts";
import { ActionRunner } from "./actions/runner.ts";
import { syncActions } from "./actions/sync.ts";
import { GUEST, SYSTEM, type Identity } from "./identity/identity.ts";
import { inBatches, inTurns, toEnd } from "./turns.ts";
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
  /** Schema changes while serving run one after another. */
  private schemaQueue: Promise<void> = Promise.resolve();

  private constructor(readonly db: SqlDb) {
    this.config = new ConfigStore(db);
    this.tablePermissions = new TablePermissions(db);
    this.data = new DataService({
      db,
      registry: () => this.registryValue,
      tablePermissions: this.tablePermissions,
      defaultRowPermission: () => (this.adminExists ? DEFAULT_PERMISSION : ALLOW_ALL_PERMISSIONS),
      encryptionSecret: () => this.encryptionSecret,
      checkDefinition: (value) => this.checkStoredDefinition(value),
      checkWorldRow: (op, attributes, rowId) => this.checkWorldRow(op, attributes, rowId),
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
        applySchema: (docs, opts) => this.changeSchema(docs, opts),
        reload: () => this.changeSchema(this.schemaFiles.map((f) => readSchemaFile(f, { reread: true }))),
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

  /**
   * The registry of the system schema, the stored definitions and `docs`: the one validation every schema change
   * passes before anything is written. A stored-only definition the rules refuse (written by an older version or by
   * hand) is left out with a warning instead, so a database the server wrote always opens.
   */
  private buildRegistry(docs: SchemaDoc[]): Built {
    return toEnd(this.registryPieces(docs));
  }

  /** buildRegistry as a generator that yields between stored definitions, relations and tables. */
  private *registryPieces(docs: SchemaDoc[]): Generator<void, Built> {
    const merged = mergeDocs([systemSchema(), ...docs]);
    const config = new Map(merged.tables.map((t) => [t.TableName, t]));
    const stored = yield* storedDefinitionPieces(this.db);
    const warnings = [...merged.warnings, ...stored.skipped.map(skippedWarning)];
    const tables: TableDef[] = [];
    const storedOnly = new Set<string>();
    for (const def of stored.tables) {
      const fromFile = config.get(def.TableName);
      tables.push(fromFile ? mergeTable(def, fromFile, "full") : def);
      if (!fromFile) storedOnly.add(def.TableName);
      config.delete(def.TableName);
    }
    tables.push(...config.values());
    for (;;) {
      try {
        const registry = yield* Registry.pieces(tables, merged.relations);
        return { registry, warnings, actions: merged.actions, groups: merged.groups };
      } catch (e) {
        if (!(e instanceof RegistryError)) throw e;
        const culprit = e.table !== undefined && storedOnly.has(e.table) ? e.table : undefined;
        if (culprit === undefined) throw schemaError("Invalid schema", e.message);
        storedOnly.delete(culprit);
        tables.splice(tables.findIndex((t) => t.TableName === culprit), 1);
        warnings.push(skippedWarning({ table: culprit, problem: e.message }));
      }
    }
  }

  /** Registry and plan for a change, refused (nothing written) when the schema is invalid or cannot be migrated. */
  private prepareChange(docs: SchemaDoc[]): Prepared {
    return toEnd(this.preparePieces(docs));
  }

  private *preparePieces(docs: SchemaDoc[]): Generator<void, Prepared> {
    const built = yield* this.registryPieces(docs);
    const plan: Plan = { steps: [], refusals: [] };
    try {
      yield* planning(this.db, built.registry, plan);
    } catch (e) {
      if (e instanceof DdlError) throw schemaError("Invalid schema", e.message);
      throw e;
    }
    if (plan.refusals.length > 0) {
      const lines = plan.refusals.map((r) => `${r.table}${r.column ? `.${r.column}` : ""}: ${r.reason}`);
      throw new DaptinError("schema", "Schema change refused", { detail: lines.join("\n") });
    }
    return { ...built, plan };
  }

  /**
   * Inside one transaction: the plan's statements, seeds, groups, `world` and `action` rows, the schema hash, and the
   * new registry put in force (so `within` writes through it). Throws with everything rolled back and the previous
   * registry back in place.
   */
  private commitChange(change: Prepared, steps: PlanStep[], within?: () => void, ahead: Ahead = {}, nextStart?: NextStart): { world: WorldChange[]; seeded: boolean } {
    const staged = ahead.tables ?? new Set<string>();
    const previous = this.registryValue;
    let world: WorldChange[] = [];
    let seeded = false;
    try {
      this.db.transaction(() => {
        this.applySteps(steps);
        // Another process may have dropped staged tables it took for a crash's leftovers.
        const have = new Set(this.db.all<{ name: string }>(sql`SELECT name FROM sqlite_master WHERE type = 'table'`).map((r) => r.name));
        const lost = [...staged].filter((t) => !have.has(t));
        if (lost.length > 0) throw schemaError("Schema change interrupted", `tables ${lost.join(", ")} were dropped by another process while this change ran; send it again`);
        seeded = seedIfEmpty(this.db);
        ensureGroups(this.db, change.groups);
        world = syncWorld(this.db, change.registry, ahead);
        syncActions(this.db, [...BUILTIN_ACTIONS, ...change.actions], hasAdministrator(this.db));
        seedConfig(this.config);
        this.schemaHash = ahead.hash ?? this.computeSchemaHash();
        this.config.set("schema.hash", this.schemaHash);
        if (this.config.get(STAGED_KEY)) this.config.set(STAGED_KEY, "");
        this.registryValue = change.registry;
        this.db.forgetPrepared();
        within?.();
        if (nextStart) this.refuseUnstartable(nextStart);
      });
    } catch (e) {
      if (this.registryValue !== previous) {
        this.registryValue = previous;
        this.db.forgetPrepared();
        if (previous) this.refreshState();
      }
      throw e;
    }
    this.refreshState();
    return { world, seeded };
  }

  /** Runs planned statements; what the database still refuses (duplicates for a new unique index) is a schema error. */
  private applySteps(steps: PlanStep[]): void {
    try {
      applyPlan(this.db, { steps, refusals: [] });
    } catch (e) {
      const c = this.db.constraintOf(e);
      if (c) {
        throw new DaptinError("schema", "Schema change refused", {
          detail: c.kind === "unique" ? `${c.detail.replace(/^.*failed: /, "")}: existing rows have duplicate values, so a unique index cannot be created` : c.detail,
        });
      }
      // The validation should have refused anything else; say what SQLite said rather than fail the request.
      if (e instanceof Error && "code" in e && String(e.code).startsWith("SQLITE_")) throw schemaError("Schema change refused", `SQLite: ${e.message}`);
      throw e;
    }
  }

  private applySchema(opts: OpenOptions): ApplyReport {
    this.config.ensureTable();
    this.dropStaged();
    const docs = [...(opts.schemaFiles ?? []).map((f) => readSchemaFile(f)), ...(opts.schemaDocs ?? [])];
    const change = this.prepareChange(docs);
    const { registry, warnings, plan } = change;
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
    const { world, seeded } = this.commitChange(change, plan.steps);
    return { plan, world, warnings, applied: true, seeded };
  }

  /**
   * A schema change while serving (schema actions). One at a time. `alter` (a column or table change that edits
   * stored definitions) runs first, in the same transaction as the rest; `within` (imported rows) last, with the new
   * registry in force: if anything throws, nothing is written and the registry in force stays the previous one.
   *
   * New tables are created first, in short transactions with the event loop free in between (SQLite re-reads its
   * schema table for every CREATE, so a large upload's DDL takes seconds; nobody sees those tables until the final
   * transaction writes their `world` rows). Everything else, including changes to existing tables, is that final
   * transaction. If it fails, the staged tables are dropped again (or at the next start, after a crash).
   */
  async changeSchema(docs: SchemaDoc[], opts: ChangeOptions = {}): Promise<ApplyReport> {
    const turn = this.schemaQueue.then(() => this.changeSchemaNow(docs, opts));
    this.schemaQueue = turn.then(() => undefined, () => undefined);
    return turn;
  }

  private async changeSchemaNow(docs: SchemaDoc[], opts: ChangeOptions): Promise<ApplyReport> {
    if (opts.alter) {
      // An alter edits the stored definitions the registry is built from: plan and commit inside its transaction.
      const alter = opts.alter;
      const nextStart = this.nextStartFor(alter.table);
      let report: ApplyReport | undefined;
      this.db.transaction(() => {
        alter.apply();
        const change = this.prepareChange(docs);
        const { world, seeded } = this.commitChange(change, change.plan.steps, opts.within, {}, nextStart);
        report = { plan: change.plan, world, warnings: change.warnings, applied: true, seeded };
      });
      return report!;
    }
    const change = await inTurns(this.preparePieces(docs));
    const { registry } = change;
    const created = new Set(change.plan.steps.filter((s) => s.kind === "create_table").map((s) => s.table));
    const stagedSteps = change.plan.steps.filter((s) => created.has(s.table));
    const rest = change.plan.steps.filter((s) => !created.has(s.table));
    // Worked out before the final transaction so that it stays short: every table's stored JSON, the new tables'
    // world rows (written to a temporary table only this connection sees), and the schema hash.
    const json = new Map<string, string>();
    await inBatches([...registry.tables.values()], (batch) => batch.forEach((t) => json.set(t.name, worldSchemaJson(t, registry.relationsOf(t.name)))));
    const known = new Set(this.db.all<{ t: string }>(sql`SELECT table_name AS t FROM world`).map((r) => r.t));
    const unknown = [...registry.tables.values()].filter((t) => !known.has(t.name));
    const others = this.db.all<{ table: string; json: string }>(
      sql`SELECT table_name AS "table", world_schema_json AS json FROM world WHERE table_name NOT IN (SELECT value FROM json_each(${JSON.stringify([...json.keys()])}))`,
    );
    const hash = schemaHashOf([...others, ...[...json].map(([table, text]) => ({ table, json: text }))]);
    if (stagedSteps.length > 0) this.config.set(STAGED_KEY, JSON.stringify({ pid: process.pid, tables: [...created] }));
    try {
      discardStagedWorld(this.db);
      await inBatches(unknown, (batch) => this.db.transaction(() => stageWorldRows(this.db, batch, json)));
      await inBatches(stagedSteps, (batch) => this.db.transaction(() => this.applySteps(batch)));
      const ahead: Ahead = { json, staged: new Set(unknown.map((t) => t.name)), tables: created, hash };
      const { world, seeded } = this.commitChange(change, rest, opts.within, ahead);
      return { plan: change.plan, world, warnings: change.warnings, applied: true, seeded };
    } catch (e) {
      discardStagedWorld(this.db);
      if (stagedSteps.length > 0) await this.dropStagedSlowly([...created]);
      throw e;
    }
  }

  /**
   * The start-up schema files, read now as the next start would read them, when one declares `table`; otherwise
   * undefined (the next start merges nothing over that table). A file that can no longer be read is left out: the
   * next start fails on it whatever this change does.
   */
  private nextStartFor(table: string): NextStart | undefined {
    if (this.schemaFiles.length === 0) return undefined;
    const files: { path: string; doc: SchemaDoc }[] = [];
    for (const path of this.schemaFiles) {
      try {
        files.push({ path, doc: readSchemaFile(path) });
      } catch (e) {
        if (!(e instanceof DaptinError || e instanceof SchemaParseError)) throw e;
      }
    }
    const declares = (doc: SchemaDoc) => doc.Tables.some((t) => t.TableName === table) || doc.Relations.some((r) => r.Subject === table || r.Object === table);
    return files.some((f) => declares(f.doc)) ? { files, table } : undefined;
  }

  /**
   * Inside an alteration's transaction (tables and stored definitions as they will be): the plan the next start
   * would make from them and the start-up files, for the altered table as if it had rows (it may have by then). A
   * refusal there means the change would leave a database the server cannot start on again (a NOT NULL column
   * without a default that a file still declares, renamed or removed), so the change is refused, naming the file.
   * One registry build and plan more, only when a start-up file declares the altered table.
   *
   * Uploads need no such check: they never take away a column, and a type or nullability change the files would
   * undo is refused by the upload's own plan.
   */
  private refuseUnstartable(next: NextStart): void {
    const unstartable = (lines: string[]) =>
      new DaptinError("schema", "Schema change refused", { detail: `the next start would refuse this database: ${lines.join("; ")}` });
    let plan: Plan;
    try {
      plan = planMigration(this.db, this.buildRegistry(next.files.map((f) => f.doc)).registry, { withRows: new Set([next.table]) });
    } catch (e) {
      if (e instanceof DaptinError) throw unstartable([e.detail ?? e.title]);
      if (e instanceof DdlError) throw unstartable([e.message]);
      throw e;
    }
    const refusals = plan.refusals.filter((r) => r.table === next.table);
    if (refusals.length === 0) return;
    throw unstartable(refusals.map((r) => {
      const declaring = next.files.find((f) => f.doc.Tables.some((t) => t.TableName === r.table && (!r.column || t.Columns.some((c) => c.ColumnName === r.column))))
        ?? next.files.find((f) => f.doc.Tables.some((t) => t.TableName === r.table));
      const what = `${r.table}${r.column ? `.${r.column}` : ""}`;
      return `${declaring ? `schema file ${declaring.path} declares ${what}` : what}: ${r.reason}. Change the file first`;
    }));
  }

  /**
   * Tables a crashed schema change created and never published (no `world` row): dropped at the next start. Those
   * of a change still running in another process (the server, while the CLI opens the database) are left alone.
   */
  private dropStaged(): void {
    const text = this.config.get(STAGED_KEY);
    if (!text) return;
    let staged: { pid?: number; tables?: string[] };
    try {
      staged = JSON.parse(text) as typeof staged;
    } catch {
      staged = {};
    }
    if (typeof staged.pid === "number" && staged.pid !== process.pid && processAlive(staged.pid)) return;
    this.db.transaction(() => {
      for (const t of staged.tables ?? []) this.dropIfUnpublished(t);
      this.config.set(STAGED_KEY, "");
    });
  }

  private async dropStagedSlowly(tables: string[]): Promise<void> {
    await inBatches(tables, (batch) => this.db.transaction(() => batch.forEach((t) => this.dropIfUnpublished(t))));
    this.config.set(STAGED_KEY, "");
  }

  private dropIfUnpublished(table: string): void {
    if (!SAFE_IDENTIFIER.test(table)) return;
    if (this.db.get(sql`SELECT 1 AS x FROM world WHERE table_name = ${table}`)) return;
    this.db.run(sql.raw(`DROP TABLE IF EXISTS "${table}"`));
  }

  /**
   * A definition written to `world.world_schema_json` through the API must be one the engine can start with: it is
   * decoded and validated as a schema file's table would be, and planned against the database (nothing written).
   */
  checkStoredDefinition(value: JsonValue): string {
    let parsed: unknown = value;
    if (typeof value === "string") {
      try {
        parsed = JSON.parse(value);
      } catch {
        throw validation("Validation failed", "world_schema_json must be a JSON table definition", { pointer: "/data/attributes/world_schema_json" });
      }
    }
    try {
      const doc = decodeSchema({ Tables: [parsed] }).doc;
      if (doc.Tables.length !== 1) throw new SchemaDecodeError([], "world_schema_json must be one table definition");
      const def = doc.Tables[0]!;
      const tables = [...this.registryValue.tables.values()].filter((t) => !t.isJoin && t.name !== def.TableName).map((t) => t.def);
      const plan = planMigration(this.db, new Registry([...tables, def], this.registryValue.relations.filter((r) => r.Subject !== def.TableName)));
      const refusal = plan.refusals[0];
      if (refusal) throw new DdlError(`${refusal.table}${refusal.column ? `.${refusal.column}` : ""}: ${refusal.reason}`);
      return JSON.stringify(parsed);
    } catch (e) {
      if (e instanceof SchemaDecodeError || e instanceof RegistryError || e instanceof DdlError) {
        throw validation("Validation failed", `world_schema_json: ${e.message.replace(/^Tables\[0\]\.?/, "")}`, { pointer: "/data/attributes/world_schema_json" });
      }
      throw e;
    }
  }

  /**
   * A write to a `world` row through the data path. World rows are the engine's record of the tables it serves,
   * found by `table_name`: deleting one left the table forbidden to everyone but administrators until a restart (and
   * gone after it without a schema file); a new `table_name` left a stale row beside the fresh one the engine wrote
   * (with default permissions); a definition of another table replaced this one's. Rows of tables the engine does
   * not serve (definitions it skipped) may still be fixed or deleted, as its warning says.
   */
  private checkWorldRow(op: "create" | "update" | "delete", attributes: Record<string, JsonValue>, rowId?: number): void {
    const stored = rowId === undefined ? undefined : this.db.get<{ t: string }>(sql`SELECT table_name AS t FROM world WHERE id = ${rowId}`)?.t;
    const served = stored !== undefined && this.registryValue.tables.has(stored);
    if (op === "delete") {
      if (served) throw conflict("Delete refused", `the world row of ${stored} is the engine's record of a table it serves: remove the table with the remove_table action`);
      return;
    }
    const name = "table_name" in attributes ? attributes.table_name : stored;
    if (served && name !== stored) {
      throw validation("Validation failed", `table_name of the world row of ${stored} cannot change: the engine finds the table by it`, { pointer: "/data/attributes/table_name" });
    }
    const json = attributes.world_schema_json;
    if (json === undefined || typeof name !== "string") return;
    let def: unknown = json;
    try {
      if (typeof json === "string") def = JSON.parse(json);
      const [table] = decodeSchema({ Tables: [def] }).doc.Tables;
      if (table && table.TableName !== name) {
        throw validation("Validation failed", `world_schema_json defines the table "${table.TableName}", not this row's table_name "${name}"`, { pointer: "/data/attributes/world_schema_json" });
      }
    } catch (e) {
      // What is wrong with the definition itself, checkStoredDefinition says.
      if (!(e instanceof SyntaxError || e instanceof SchemaDecodeError)) throw e;
    }
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
    const rows = this.db.all<{ table: string; json: string }>(sql`SELECT table_name AS "table", world_schema_json AS json FROM world`);
    return schemaHashOf(rows);
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
      .map((t) => JSON.parse(worldSchemaJson(t, this.registryValue.relationsOf(t.name))) as JsonValue);
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

/** `_config` key listing the tables a schema change in progress created but has not published yet. */
const STAGED_KEY = "schema.staged_tables";

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** What a live change worked out before its final transaction (see bootstrap's WorldAhead). */
interface Ahead extends WorldAhead {
  /** Tables created ahead (staged), which must still be there. */
  tables?: ReadonlySet<string>;
  hash?: string;
}

interface ChangeOptions {
  alter?: Alteration;
  within?: () => void;
}

/** The start-up files as the next start would read them, and the table an alteration changes that they declare. */
interface NextStart {
  files: { path: string; doc: SchemaDoc }[];
  table: string;
}

interface Built {
  registry: Registry;
  warnings: string[];
  actions: ActionDef[];
  groups: string[];
}

interface Prepared extends Built {
  plan: Plan;
}
