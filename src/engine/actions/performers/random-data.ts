// generate_random_data: `count` rows of realistic fake values (faker) for a table, owned by the caller, in one
// transaction. Relation columns point at random existing rows of their target table.
import type { Faker } from "@faker-js/faker";
import { validation } from "../../errors.ts";
import type { JsonValue } from "../../schema/column-types/index.ts";
import type { ColumnInfo } from "../../schema/registry.ts";
import { SERVER_MANAGED } from "../../schema/standard.ts";
import type { Performer } from "./context.ts";
import { notify } from "../types.ts";

const MAX_RANDOM_ROWS = 100_000;

/** A fake value that fits the column's type (and its enum options). */
function fake(faker: Faker, c: ColumnInfo): JsonValue {
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
    case "password": return faker.internet.password({ length: 12 });
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

export const generateRandomData: Performer = {
  async: true,
  async run({ who, attributes, progress }, ctx) {
    // faker is large: loaded on first use, not at start.
    const { faker } = await import("@faker-js/faker/locale/en");
    const tableName = attributes.table_name;
    if (typeof tableName !== "string" || tableName === "") throw validation("Validation failed", "table_name is required", { pointer: "/attributes/table_name" });
    const count = Number(attributes.count);
    if (!Number.isInteger(count) || count < 1 || count > MAX_RANDOM_ROWS) {
      throw validation("Validation failed", `count must be a whole number from 1 to ${MAX_RANDOM_ROWS}`, { pointer: "/attributes/count" });
    }
    const table = ctx.data.table(tableName);
    const columns = table.columns.filter((c) => !c.isStandard && !SERVER_MANAGED.has(c.ColumnName) && !c.ExcludeFromApi && !(c.ColumnName === "user_account_id" && table.hasOwner));
    const pools = new Map<string, string[]>();
    for (const c of columns) if (c.references) pools.set(c.ColumnName, ctx.data.randomReferenceIds(ctx.data.table(c.references.table), 200));
    // Rows belong to the caller; the action's gates decided who may run this.
    const author = { ...who, isAdmin: true };
    // All rows or none.
    ctx.db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const attrs: Record<string, JsonValue> = {};
        for (const c of columns) {
          if (c.references) {
            const pool = pools.get(c.ColumnName)!;
            if (pool.length) attrs[c.ColumnName] = faker.helpers.arrayElement(pool);
            else if (!c.IsNullable) throw validation("Validation failed", `${table.name}.${c.ColumnName} needs a ${c.references.table} row to point at; there is none`);
            continue;
          }
          const v = fake(faker, c);
          if (v !== null) attrs[c.ColumnName] = v;
        }
        ctx.data.createSync(author, table.name, { attributes: attrs });
        if (progress && (i + 1) % 500 === 0) progress(i + 1, count);
      }
    });
    progress?.(count, count);
    return [notify("success", "Success", `Generated ${count} rows in ${table.name}`)];
  },
};
