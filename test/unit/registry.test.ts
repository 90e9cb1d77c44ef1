// Unit tests for src/engine/schema/registry.ts: the tables, columns and relations derived from schema definitions.
import { describe, expect, test } from "bun:test";
import { mergeDocs, systemSchema } from "../../src/engine/schema/load.ts";
import { parseSchema } from "../../src/engine/schema/parse.ts";
import { Registry, RegistryError } from "../../src/engine/schema/registry.ts";

const STANDARD = ["id", "version", "created_at", "updated_at", "reference_id", "permission"];

const PROJECT_YAML = `Tables:
  - TableName: project
    Columns:
      - {Name: title, ColumnType: label, DataType: varchar(100), IsIndexed: true}
  - TableName: todo
    Columns:
      - {Name: title, ColumnType: label, DataType: varchar(200)}
      - {Name: secret, ColumnType: label, DataType: varchar(20), ExcludeFromApi: true, IsNullable: true}
  - TableName: tag
    Columns:
      - {Name: label, ColumnType: label, DataType: varchar(50)}
  - TableName: note
    Columns:
      - {Name: body, ColumnType: content, DataType: text}
Relations:
  - {Subject: todo, Relation: belongs_to, Object: project}
  - {Subject: project, Relation: has_many, Object: tag}
  - {Subject: todo, Relation: has_many_and_belongs_to_many, Object: tag}
  - {Subject: note, Relation: has_one, Object: todo}
  - {Subject: note, Relation: belongs_to, Object: user_account, SubjectName: written_note, ObjectName: author_id}
`;

function build(yaml = PROJECT_YAML): Registry {
  const merged = mergeDocs([systemSchema(), parseSchema(yaml, "schema_project.yaml")]);
  return new Registry(merged.tables, merged.relations);
}

function systemRegistry(): Registry {
  const sys = systemSchema();
  return new Registry(sys.Tables, sys.Relations);
}

const reg = build();
const t = (name: string) => {
  const info = reg.get(name);
  if (!info) throw new Error(`no table ${name}`);
  return info;
};

describe("Registry: the system schema alone", () => {
  const sys = systemRegistry();
  const joins = [...sys.tables.keys()].filter((n) => n.includes("_has_"));
  const plain = [...sys.tables.keys()].filter((n) => !n.includes("_has_"));

  test("41 system tables plus their join tables: 82 in all", () => {
    expect(plain).toHaveLength(41);
    expect(joins).toHaveLength(41);
    expect(sys.tables.size).toBe(82);
  });

  test("every system table but usergroup has a usergroup sharing join table", () => {
    for (const name of plain) {
      const share = `${name}_${name}_id_has_usergroup_usergroup_id`;
      if (name === "usergroup") expect(sys.get(share)).toBeUndefined();
      else expect(sys.get(share)?.isJoin).toBe(true);
    }
  });

  test("world has_many smd gets its join table", () => {
    const j = sys.get("world_world_id_has_smd_smd_id");
    expect(j).toBeDefined();
    expect(j!.column.get("world_id")!.references!.table).toBe("world");
    expect(j!.column.get("smd_id")!.references!.table).toBe("smd");
  });

  test("the system schema parses without warnings", () => {
    expect(systemSchema().warnings).toEqual([]);
  });

  test("default sort: world by +table_name, the rest by -created_at", () => {
    expect(sys.get("world")!.defaultSort).toEqual([{ column: "table_name", desc: false }]);
    expect(sys.get("document")!.defaultSort).toEqual([{ column: "created_at", desc: true }]);
  });
});

describe("Registry: foreign key columns", () => {
  test("belongs_to puts a NOT NULL <object>_id column on the subject", () => {
    const c = t("todo").column.get("project_id")!;
    expect(c).toBeDefined();
    expect(c.IsNullable).toBe(false);
    expect(c.IsForeignKey).toBe(true);
    expect(c.IsIndexed).toBe(true);
    expect(c.DataType).toBe("int(11)");
    expect(c.references).toEqual({ table: "project", onDelete: "restrict" });
  });

  test("belongs_to user_account (custom names) is nullable with set_null", () => {
    const c = t("note").column.get("author_id")!;
    expect(c.IsNullable).toBe(true);
    expect(c.references).toEqual({ table: "user_account", onDelete: "set_null" });
  });

  test("has_one is a nullable FK on the subject", () => {
    const c = t("note").column.get("todo_id")!;
    expect(c.IsNullable).toBe(true);
    expect(c.references).toEqual({ table: "todo", onDelete: "set_null" });
  });

  test("belongs_to usergroup is nullable", () => {
    const r = build(`Tables:
  - TableName: team_note
Relations:
  - {Subject: team_note, Relation: belongs_to, Object: usergroup}
`);
    expect(r.get("team_note")!.column.get("usergroup_id")!.IsNullable).toBe(true);
  });

  test("has_many does not add a column to either side", () => {
    expect(t("project").column.has("tag_id")).toBe(false);
    expect(t("tag").column.has("project_id")).toBe(false);
  });

  test("OnDelete cascade is kept on the FK", () => {
    const r = build(`Tables:
  - TableName: parent
  - TableName: child
Relations:
  - {Subject: child, Relation: belongs_to, Object: parent, OnDelete: cascade}
`);
    expect(r.get("child")!.column.get("parent_id")!.references).toEqual({ table: "parent", onDelete: "cascade" });
  });

  test("OnDelete set_null on a NOT NULL belongs_to is a RegistryError", () => {
    expect(() =>
      build(`Tables:
  - TableName: parent
  - TableName: child
Relations:
  - {Subject: child, Relation: belongs_to, Object: parent, OnDelete: set_null}
`),
    ).toThrow(RegistryError);
  });
});

describe("Registry: join tables", () => {
  test("has_many and has_many_and_belongs_to_many get <S>_<sn>_has_<O>_<on> join tables", () => {
    const pj = reg.get("project_project_id_has_tag_tag_id");
    const tj = reg.get("todo_todo_id_has_tag_tag_id");
    expect(pj).toBeDefined();
    expect(tj).toBeDefined();
    expect(pj!.isJoin).toBe(true);
    expect(tj!.def.IsJoinTable).toBe(true);
    expect(tj!.def.IsTopLevel).toBe(false);
  });

  test("join tables hold two NOT NULL cascade FKs after the standard columns", () => {
    const j = t("todo_todo_id_has_tag_tag_id");
    expect(j.columns.map((c) => c.ColumnName)).toEqual([...STANDARD, "todo_id", "tag_id"]);
    for (const [name, target] of [["todo_id", "todo"], ["tag_id", "tag"]] as const) {
      const c = j.column.get(name)!;
      expect(c.IsNullable).toBe(false);
      expect(c.references).toEqual({ table: target, onDelete: "cascade" });
    }
  });

  test("custom SubjectName/ObjectName name the join table", () => {
    const r = build(`Tables:
  - TableName: person
  - TableName: skill
Relations:
  - {Subject: person, Relation: has_many, Object: skill, SubjectName: holder, ObjectName: skills}
`);
    const j = r.get("person_holder_has_skill_skills");
    expect(j).toBeDefined();
    expect(j!.column.has("holder")).toBe(true);
    expect(j!.column.has("skills")).toBe(true);
    expect(r.get("person")!.relations.get("skills")!.target).toBe("skill");
    expect(r.get("skill")!.relations.get("holder")!.target).toBe("person");
  });

  test("join tables have no owner and no sharing table of their own", () => {
    const j = t("todo_todo_id_has_tag_tag_id");
    expect(j.hasOwner).toBe(false);
    expect(j.column.has("user_account_id")).toBe(false);
    expect(reg.get("todo_todo_id_has_tag_tag_id_todo_todo_id_has_tag_tag_id_id_has_usergroup_usergroup_id")).toBeUndefined();
  });
});

describe("Registry: implicit owner and sharing", () => {
  test("every non-join table except usergroup has a nullable user_account_id owner column", () => {
    for (const info of reg.tables.values()) {
      if (info.isJoin || info.name === "usergroup") continue;
      const c = info.column.get("user_account_id");
      expect(c, info.name).toBeDefined();
      expect(c!.IsNullable).toBe(true);
      expect(c!.references!.table).toBe("user_account");
      expect(info.hasOwner).toBe(true);
    }
  });

  test("usergroup has no owner column and no sharing table", () => {
    const g = t("usergroup");
    expect(g.column.has("user_account_id")).toBe(false);
    expect(g.hasOwner).toBe(false);
    expect(reg.get("usergroup_usergroup_id_has_usergroup_usergroup_id")).toBeUndefined();
  });

  test("every non-join table except usergroup has a usergroup sharing join table", () => {
    for (const info of reg.tables.values()) {
      if (info.isJoin || info.name === "usergroup") continue;
      const share = reg.get(`${info.name}_${info.name}_id_has_usergroup_usergroup_id`);
      expect(share, info.name).toBeDefined();
      expect(share!.isJoin).toBe(true);
      expect(share!.column.get("usergroup_id")!.references!.table).toBe("usergroup");
    }
  });

  test("the sharing relation is a to-many usergroup_id relation on the table", () => {
    const rel = t("todo").relations.get("usergroup_id")!;
    expect(rel.toMany).toBe(true);
    expect(rel.target).toBe("usergroup");
    expect(rel.storage).toEqual({ kind: "join", table: "todo_todo_id_has_usergroup_usergroup_id", selfColumn: "todo_id", otherColumn: "usergroup_id" });
  });

  test("user_account owns itself (its own user_account_id column)", () => {
    expect(t("user_account").column.get("user_account_id")!.references!.table).toBe("user_account");
  });

  test("implicit owner column comes after the declared and relation columns", () => {
    expect(t("todo").columns.map((c) => c.ColumnName)).toEqual([...STANDARD, "title", "secret", "project_id", "user_account_id"]);
  });
});

describe("Registry: relations seen from both sides", () => {
  test("todo belongs_to project: todo.project_id is to-one, stored here", () => {
    const rel = t("todo").relations.get("project_id")!;
    expect(rel.toMany).toBe(false);
    expect(rel.target).toBe("project");
    expect(rel.kind).toBe("belongs_to");
    expect(rel.storage).toEqual({ kind: "fk_here", column: "project_id" });
  });

  test("project sees todo_id, to-many, stored on todo", () => {
    const rel = t("project").relations.get("todo_id")!;
    expect(rel.toMany).toBe(true);
    expect(rel.target).toBe("todo");
    expect(rel.storage).toEqual({ kind: "fk_there", column: "project_id" });
  });

  test("has_one reverse is to-one", () => {
    const fwd = t("note").relations.get("todo_id")!;
    expect(fwd.toMany).toBe(false);
    const back = t("todo").relations.get("note_id")!;
    expect(back.toMany).toBe(false);
    expect(back.target).toBe("note");
    expect(back.storage).toEqual({ kind: "fk_there", column: "todo_id" });
  });

  test("has_many: to-many through the join table from both sides", () => {
    const fwd = t("project").relations.get("tag_id")!;
    expect(fwd.toMany).toBe(true);
    expect(fwd.storage).toEqual({ kind: "join", table: "project_project_id_has_tag_tag_id", selfColumn: "project_id", otherColumn: "tag_id" });
    const back = t("tag").relations.get("project_id")!;
    expect(back.toMany).toBe(true);
    expect(back.target).toBe("project");
    expect(back.storage).toEqual({ kind: "join", table: "project_project_id_has_tag_tag_id", selfColumn: "tag_id", otherColumn: "project_id" });
  });

  test("has_many_and_belongs_to_many: to-many from both sides", () => {
    expect(t("todo").relations.get("tag_id")!.toMany).toBe(true);
    expect(t("tag").relations.get("todo_id")!.toMany).toBe(true);
    expect(t("tag").relations.get("todo_id")!.kind).toBe("has_many_and_belongs_to_many");
  });

  test("relation names are never table names", () => {
    for (const info of [t("todo"), t("project"), t("tag")]) {
      for (const name of info.relations.keys()) expect(reg.tables.has(name)).toBe(false);
    }
  });
});

describe("Registry: columns", () => {
  test("standard columns come first and in order", () => {
    for (const name of ["todo", "project", "tag", "note", "user_account", "usergroup", "world", "todo_todo_id_has_tag_tag_id"]) {
      expect(t(name).columns.slice(0, 6).map((c) => c.ColumnName)).toEqual(STANDARD);
      for (const c of t(name).columns.slice(0, 6)) expect(c.isStandard).toBe(true);
    }
    expect(t("todo").column.get("title")!.isStandard).toBe(false);
  });

  test("a declared column named like a standard one does not duplicate it", () => {
    const r = build(`Tables:
  - TableName: thing
    Columns:
      - {Name: version, DataType: varchar(10)}
      - {Name: name, DataType: varchar(10)}
`);
    const cols = r.get("thing")!.columns.map((c) => c.ColumnName);
    expect(cols.filter((c) => c === "version")).toHaveLength(1);
    expect(cols.slice(0, 6)).toEqual(STANDARD);
    expect(r.get("thing")!.column.get("version")!.DataType).toBe("INTEGER");
  });

  test("apiColumns excludes id and ExcludeFromApi columns, sorted by name", () => {
    const api = t("todo").apiColumns.map((c) => c.ColumnName);
    expect(api).not.toContain("id");
    expect(api).not.toContain("secret");
    expect(api).toEqual([...api].sort());
    for (const name of ["created_at", "permission", "project_id", "reference_id", "title", "updated_at", "user_account_id"]) {
      expect(api).toContain(name);
    }
  });

  test("apiColumns shows version read-only (for the optimistic check), never id", () => {
    const api = t("todo").apiColumns.map((c) => c.ColumnName);
    expect(api).toContain("version");
    expect(api).toEqual(["created_at", "permission", "project_id", "reference_id", "title", "updated_at", "user_account_id", "version"]);
  });

  test("column families come from ColumnType/DataType", () => {
    const ua = t("user_account");
    expect(ua.column.get("password")!.family.name).toBe("password");
    expect(ua.column.get("confirmed")!.family.name).toBe("boolean");
    expect(ua.column.get("name")!.family.name).toBe("text");
  });

  test("searchable columns are indexed/unique label, name or email columns", () => {
    expect(t("project").searchable.map((c) => c.ColumnName)).toEqual(["title"]);
    expect(t("todo").searchable.map((c) => c.ColumnName)).toEqual([]); // title is not indexed
    expect(t("user_account").searchable.map((c) => c.ColumnName).sort()).toEqual(["email", "name"]);
  });
});

describe("Registry: errors", () => {
  test("a relation to a missing table is a RegistryError", () => {
    expect(() =>
      build(`Tables:
  - TableName: todo
Relations:
  - {Subject: todo, Relation: belongs_to, Object: nowhere}
`),
    ).toThrow(RegistryError);
  });

  test("a relation from a missing table is a RegistryError naming it", () => {
    let err: unknown;
    try {
      build(`Relations:\n  - {Subject: ghost, Relation: has_many, Object: user_account}\n`);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as Error).message).toContain("ghost");
  });

  test("CompositeKeys naming an unknown column is a RegistryError", () => {
    expect(() => build(`Tables:\n  - TableName: thing\n    CompositeKeys: [[nope]]\n`)).toThrow(RegistryError);
  });

  test("a relation name that is not lower snake case is a RegistryError", () => {
    expect(() =>
      build(`Tables:
  - TableName: aa
  - TableName: bb
Relations:
  - {Subject: aa, Relation: has_many, Object: bb, ObjectName: "Bad-Name"}
`),
    ).toThrow(RegistryError);
  });
});
