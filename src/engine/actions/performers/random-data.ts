// generate_random_data: `count` rows of realistic fake values (faker) for a table, owned by the caller, in one
// transaction. Relation columns point at random existing rows of their target table. Password columns get one
// random password per call, which nobody is told: bcrypt at cost 11 takes ~100 ms, so it is hashed once, off the
// event loop, and that hash serves every row (set a password to use such an account).
import { randomBytes } from "node:crypto";
import type { Faker } from "@faker-js/faker";
import { DaptinError, validation } from "../../errors.ts";
import type { JsonValue } from "../../schema/column-types/index.ts";
import type { ColumnInfo } from "../../schema/registry.ts";
import { SERVER_MANAGED } from "../../schema/standard.ts";
import type { Identity } from "../../identity/identity.ts";
import type { Performer, PerformerContext } from "./context.ts";
import { notify } from "../types.ts";

/**
 * The rows are one synchronous transaction, so the server waits for all of them: at most this many rows, and this
 * many values (rows times the columns filled), keep it around 0.3 s (about 5 µs a value plus as much a row).
 */
const MAX_RANDOM_ROWS = 10_000;
const MAX_RANDOM_VALUES = 50_000;

/** A fake value that fits the column's type (and its enum options); passwords are the call's `secret`. */
function fake(faker: Faker, c: ColumnInfo, secret: string): JsonValue {
  const type = c.ColumnType.toLowerCase();
  const size = /\((\d+)/.exec(c.DataType)?.[1];
  const fit = (s: string) => (size ? s.slice(0, Number(size)) : s);
  if (c.Options?.length) return faker.helpers.arrayElement(c.Options).Value;
  switch (c.family.name) {
    case "boolean": return faker.datatype.boolean();
    case "number":
      if (type === "month") return faker.number.int({ min: 1, max: 12 });
      if (type === "year") return faker.number.int({ min: 1990, max: 2030 });
      if (type === "rating") return faker.number.int({ min: 0, max: 10 });
      if (type.startsWith("location.lat")) return faker.location.latitude();
      if (type.startsWith("location.lon")) return faker.location.longitude();
      return /^int/i.test(c.DataType.trim()) ? faker.number.int({ min: 0, max: 4999 }) : faker.number.float({ min: 0, max: 1000, fractionDigits: 2 });
    case "time":
      if (type === "date") return faker.date.past().toISOString().slice(0, 10);
      if (type === "time") return faker.date.past().toISOString().slice(11, 19);
      return faker.date.past().toISOString();
    case "json": return { word: faker.word.noun() };
    case "password": return secret;
    case "file": return null;
  }
  if (type === "email") return faker.internet.email().toLowerCase();
  if (type === "url") return faker.internet.url();
  if (type === "color") return faker.color.rgb();
  if (type.includes("name")) return fit(faker.person.fullName());
  if (type === "label") return fit(faker.commerce.productName());
  if (type === "content" || type === "markdown" || type === "html") return faker.lorem.paragraph();
  if (type === "day") return faker.date.weekday();
  return fit(faker.lorem.words(2));
}

/** Where the values of an ordered unique column (numbers, dates, times) start: after the largest one stored. */
type Starts = Map<string, number>;

/**
 * A value for a unique column. Numbers, dates and timestamps count up from after the largest stored value (`start`),
 * one step per row `n`; text gets a per-attempt token and the row number as a suffix (so rows of this batch differ,
 * and a clash with an existing row is retried with another token).
 */
function uniqueFake(faker: Faker, c: ColumnInfo, n: number, token: string, start: number | undefined): JsonValue {
  const size = Number(/\((\d+)/.exec(c.DataType)?.[1] ?? 0);
  const suffix = `${token}${n.toString(36)}`;
  const tagged = (s: string, sep = "-") => {
    const tail = `${sep}${suffix}`;
    return size > 0 ? `${s.slice(0, Math.max(0, size - tail.length))}${tail}`.slice(-size) : `${s}${tail}`;
  };
  const type = c.ColumnType.toLowerCase();
  switch (c.family.name) {
    case "boolean":
      return n % 2 === 0;
    case "number":
      return Math.floor(start ?? 0) + 1 + n;
    case "time": {
      if (type === "time") return new Date(((parseInt(token, 36) + n) % 86_400) * 1000).toISOString().slice(11, 19);
      const day = 86_400_000;
      if (type === "date") return new Date((Math.floor((start ?? Date.UTC(2000, 0, 1) - day) / day) + 1 + n) * day).toISOString().slice(0, 10);
      return new Date((start ?? Date.UTC(2000, 0, 1)) + 1000 * (1 + n)).toISOString();
    }
    case "json":
      return { word: faker.word.noun(), n: suffix };
  }
  if (type === "email") {
    const [local, domain] = faker.internet.email().toLowerCase().split("@") as [string, string];
    return `${local}.${suffix}@${domain}`;
  }
  if (type === "url") return `${faker.internet.url()}/${suffix}`;
  const v = fake(faker, c, "");
  return tagged(typeof v === "string" ? v : String(v ?? ""));
}

/** The largest stored value of each ordered unique column, as a number (ms for times). */
function startsOf(ctx: PerformerContext, who: Identity, table: string, columns: ColumnInfo[]): Starts {
  const starts: Starts = new Map();
  for (const c of columns) {
    if (c.family.name !== "number" && !(c.family.name === "time" && c.ColumnType.toLowerCase() !== "time")) continue;
    const [top] = ctx.data.list(who, table, { sort: `-${c.ColumnName}`, pageSize: "1", fields: c.ColumnName }).resources;
    const v = top?.attributes[c.ColumnName];
    const n = typeof v === "number" ? v : typeof v === "string" ? Date.parse(v) : NaN;
    if (Number.isFinite(n)) starts.set(c.ColumnName, n);
  }
  return starts;
}

/** Why `count` distinct values cannot exist for a unique column (booleans, enumerations), or null. */
function uniqueLimit(c: ColumnInfo, count: number): string | null {
  const type = c.ColumnType.toLowerCase();
  const room = c.Options?.length ? c.Options.length : c.family.name === "boolean" ? 2 : c.family.name === "time" && type === "time" ? 86_400 : Infinity;
  return count > room ? `${c.ColumnName} is unique and has only ${room} possible values; ${count} rows cannot all differ` : null;
}

const MAX_ATTEMPTS = 5;

export const generateRandomData: Performer = {
  async: true,
  async run({ who, attributes, progress }, ctx) {
    // faker is large: loaded on first use, not at start.
    const { faker } = await import("@faker-js/faker/locale/en");
    const tableName = attributes.table_name;
    if (typeof tableName !== "string" || tableName === "") throw validation("Validation failed", "table_name is required", { pointer: "/attributes/table_name" });
    const table = ctx.data.table(tableName);
    const columns = table.columns.filter((c) => !c.isStandard && !SERVER_MANAGED.has(c.ColumnName) && !c.ExcludeFromApi && !(c.ColumnName === "user_account_id" && table.hasOwner));
    const filled = columns.filter((c) => c.family.name !== "file").length;
    const most = Math.min(MAX_RANDOM_ROWS, Math.floor(MAX_RANDOM_VALUES / Math.max(1, filled)));
    const count = Number(attributes.count);
    if (!Number.isInteger(count) || count < 1 || count > most) {
      const why = most < MAX_RANDOM_ROWS ? ` (${table.name} has ${filled} columns to fill; at most ${MAX_RANDOM_VALUES} values per call)` : "";
      throw validation("Validation failed", `count must be a whole number from 1 to ${most}${why}`, { pointer: "/attributes/count" });
    }
    const pools = new Map<string, string[]>();
    for (const c of columns) if (c.references) pools.set(c.ColumnName, ctx.data.randomReferenceIds(ctx.data.table(c.references.table), 200));
    // Rows belong to the caller; the action's gates decided who may run this.
    const author = { ...who, isAdmin: true };
    const unique = columns.filter((c) => c.IsUnique && !c.references && c.family.name !== "file");
    for (const c of unique) {
      const why = uniqueLimit(c, count);
      if (why) throw validation("Validation failed", why, { pointer: "/attributes/count" });
    }
    const token = () => faker.string.alphanumeric({ length: 5, casing: "lower" });
    const starts = startsOf(ctx, author, table.name, unique);
    const secret = randomBytes(18).toString("base64url");
    const hashes = await ctx.data.hashAhead(table.name, [Object.fromEntries(columns.map((c) => [c.ColumnName, secret]))], { shared: true });
    // All rows or none.
    ctx.db.transaction(() => {
      let attempt = token();
      for (let i = 0; i < count; i++) {
        const attrs: Record<string, JsonValue> = {};
        for (const c of columns) {
          if (c.references) {
            const pool = pools.get(c.ColumnName)!;
            if (pool.length) attrs[c.ColumnName] = faker.helpers.arrayElement(pool);
            else if (!c.IsNullable) throw validation("Validation failed", `${table.name}.${c.ColumnName} needs a ${c.references.table} row to point at; there is none`);
            continue;
          }
          const v = c.IsUnique ? null : fake(faker, c, secret);
          if (v !== null) attrs[c.ColumnName] = v;
        }
        for (let tries = 1; ; tries++) {
          for (const c of unique) attrs[c.ColumnName] = c.Options?.length ? c.Options[i]!.Value : uniqueFake(faker, c, i, attempt, starts.get(c.ColumnName));
          try {
            ctx.data.createSync(author, table.name, { attributes: attrs }, hashes);
            break;
          } catch (e) {
            // A clash with an existing row: another token for this row and the rest.
            if (!(e instanceof DaptinError && e.kind === "conflict" && unique.length > 0 && tries < MAX_ATTEMPTS)) throw e;
            attempt = token();
          }
        }
        if (progress && (i + 1) % 500 === 0) progress(i + 1, count);
      }
    });
    progress?.(count, count);
    return [notify("success", "Success", `Generated ${count} rows in ${table.name}`)];
  },
};
