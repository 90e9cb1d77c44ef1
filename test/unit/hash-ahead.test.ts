// Unit tests for password hashes made ahead of synchronous writes (ReadyHashes) and for the expressions the outcome
// chain can evaluate before it starts (evaluateAhead).
import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { evaluateAhead } from "../../src/engine/actions/expressions.ts";
import { ScriptBudget } from "../../src/engine/actions/sandbox.ts";
import { ReadyHashes, toStored } from "../../src/engine/schema/column-types/index.ts";
import { password } from "../../src/engine/schema/column-types/password.ts";

const col = (ColumnType: string) => ({ ColumnName: "pw", ColumnType, DataType: "varchar(100)" });

describe("ReadyHashes", () => {
  test("a synchronous conversion takes a hash made ahead, once each; then it hashes on its own", async () => {
    const hashes = new ReadyHashes();
    await hashes.add("secret one", col("password"));
    await hashes.add("secret one", col("password"));
    const first = toStored(password, "secret one", col("password"), { hashes }, true) as string;
    const second = toStored(password, "secret one", col("password"), { hashes }, true) as string;
    expect(first).not.toBe(second);
    expect(hashes.take("secret one")).toBeUndefined();
    expect(await Bun.password.verify("secret one", first)).toBe(true);
    expect(await Bun.password.verify("secret one", second)).toBe(true);
    // Not made ahead: hashed synchronously, still a real hash.
    const own = toStored(password, "other", col("password"), { hashes }, true) as string;
    expect(await Bun.password.verify("other", own)).toBe(true);
  });

  test("a shared hash serves every write; md5-bcrypt is keyed by the MD5; md5 and null need no hash", async () => {
    const hashes = new ReadyHashes();
    await hashes.add("batch secret", col("password"), { shared: true });
    const a = toStored(password, "batch secret", col("password"), { hashes }, true);
    const b = toStored(password, "batch secret", col("password"), { hashes }, true);
    expect(a).toBe(b);
    await hashes.add("mail pw", col("md5-bcrypt"));
    const md5 = createHash("md5").update("mail pw").digest("hex");
    expect(hashes.take(md5)).toMatch(/^\$2[aby]\$11\$/);
    await hashes.add("plain md5", col("md5"));
    await hashes.add(null, col("password"));
    expect(hashes.take(createHash("md5").update("plain md5").digest("hex"))).toBeUndefined();
    expect(toStored(password, "plain md5", col("md5"), { hashes }, true)).toBe(createHash("md5").update("plain md5").digest("hex"));
  });
});

describe("evaluateAhead", () => {
  const ctx = { password: "from request", subject: { name: "ann" }, attributes: { password: "from request" } };
  const later = new Set(["member"]);
  const ahead = (v: string) => evaluateAhead(v, ctx, later, new ScriptBudget());

  test("literals and references to what no outcome sets are evaluated now", () => {
    expect(ahead("~password")).toBe("from request");
    expect(ahead("~attributes.password")).toBe("from request");
    expect(ahead("$.name-$password")).toBe("ann-from request");
    expect(ahead("fixed secret")).toBe("fixed secret");
  });

  test("scripts, references to an outcome's result and failing paths are left to the chain", () => {
    expect(ahead("!password + 'x'")).toBeUndefined();
    expect(ahead("{{password}}")).toBeUndefined();
    expect(ahead("~member.password")).toBeUndefined();
    expect(ahead("$member.password")).toBeUndefined();
    expect(ahead("$missing.deeper.path")).toBeUndefined();
  });
});
