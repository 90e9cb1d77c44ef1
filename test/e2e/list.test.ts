// List parameters over HTTP: paging and links, sort, query operators, keyword filter, fields, relation filters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { api, startServer, type TestServer } from "../helpers/daptin.ts";

let s: TestServer;
const cats: Record<string, string> = {};

const q = (items: unknown[]) => `query=${encodeURIComponent(JSON.stringify(items))}`;
const names = (r: { body: any }) => r.body.data.map((d: any) => d.attributes.name);

beforeAll(async () => {
  s = await startServer({ schemas: ["schema_product.yaml"] });
  for (const n of ["Garden", "Kitchen"]) {
    cats[n] = (await api(s, "POST", "/api/category", { data: { type: "category", attributes: { name: n } } })).body.data.id;
  }
  const rows: [string, number, boolean, string, string | null][] = [
    ["Apple peeler", 5, true, "Kitchen", "2024-01-01T00:00:00Z"],
    ["Bread knife", 12.5, true, "Kitchen", "2024-03-01T00:00:00Z"],
    ["Compost bin", 40, false, "Garden", null],
    ["Garden hose", 25, true, "Garden", "2024-06-01T00:00:00Z"],
    ["Milk frother", 18, false, "Kitchen", null],
    ["50% off sign", 1, true, "Garden", null],
    ["500 nails", 3, true, "Garden", null],
    ["snake_case ruler", 2, false, "Garden", null],
    ["Rake", 15, true, "Garden", "2023-12-31T00:00:00Z"],
    ["Whisk", 4, true, "Kitchen", null],
    ["Zester", 7, false, "Kitchen", null],
    ["Oven mitt", 6, true, "Kitchen", null],
  ];
  for (const [name, price, published, cat, released] of rows) {
    const r = await api(s, "POST", "/api/product", {
      data: { type: "product", attributes: { name, price, published, released_at: released, category_id: cats[cat] } },
    });
    expect(r.status).toBe(201);
  }
});
afterAll(async () => {
  await s.stop();
});

describe("paging", () => {
  test("default page size 10 and Daptin's links object", async () => {
    const r = await api(s, "GET", "/api/product");
    expect(r.status).toBe(200);
    expect(r.body.data.length).toBe(10);
    expect(r.body.links).toMatchObject({ current_page: 1, from: 0, last_page: 2, per_page: 10, to: 10, total: 12 });
    expect(r.body.links.next_page_url).toContain("page[number]=2");
    expect(r.body.links.prev_page_url).toBeUndefined();
  });

  test("page[number] and page[size]", async () => {
    const all = names(await api(s, "GET", "/api/product?page[size]=12&sort=name"));
    const p2 = await api(s, "GET", "/api/product?page[size]=5&page[number]=2&sort=name");
    expect(names(p2)).toEqual(all.slice(5, 10));
    expect(p2.body.links).toMatchObject({ current_page: 2, from: 5, last_page: 3, per_page: 5, to: 10, total: 12 });
    expect(p2.body.links.prev_page_url).toContain("page[number]=1");
    const p4 = await api(s, "GET", "/api/product?page%5Bsize%5D=5&page%5Bnumber%5D=4");
    expect(p4.body.data).toEqual([]);
  });

  test("page[size] above 1000, zero or not a number is a 400 naming the parameter", async () => {
    for (const v of ["1001", "0", "ten", "-1"]) {
      const r = await api(s, "GET", `/api/product?page[size]=${v}`);
      expect(r.status).toBe(400);
      expect(r.body.errors[0].source.parameter).toBe("page[size]");
    }
    expect((await api(s, "GET", "/api/product?page[size]=1000")).status).toBe(200);
    expect((await api(s, "GET", "/api/product?page[number]=0")).status).toBe(400);
  });
});

describe("sort", () => {
  test("table DefaultOrder (+name) applies without sort", async () => {
    const r = names(await api(s, "GET", "/api/product?page[size]=3"));
    expect(r).toEqual(["50% off sign", "500 nails", "Apple peeler"]);
  });
  test("several keys and descending", async () => {
    const r = await api(s, "GET", "/api/product?sort=-published,-price&page[size]=3");
    expect(names(r)).toEqual(["Garden hose", "Rake", "Bread knife"]);
  });
  test("unknown column is a 400", async () => {
    const r = await api(s, "GET", "/api/product?sort=-nope");
    expect(r.status).toBe(400);
    expect(r.body.errors[0].source.parameter).toBe("sort");
    expect((await api(s, "GET", "/api/product?sort=password")).status).toBe(400);
  });
});

describe("query", () => {
  const run = async (items: unknown[], extra = "") => {
    const r = await api(s, "GET", `/api/product?page[size]=100&sort=name&${q(items)}${extra}`);
    expect(r.status).toBe(200);
    return names(r);
  };
  test("comparison operators", async () => {
    expect(await run([{ column: "price", operator: "more than", value: 20 }])).toEqual(["Compost bin", "Garden hose"]);
    expect(await run([{ column: "price", operator: "less than", value: 3 }])).toEqual(["50% off sign", "snake_case ruler"]);
    expect(await run([{ column: "price", operator: "gte", value: 25 }])).toEqual(["Compost bin", "Garden hose"]);
    expect(await run([{ column: "price", operator: "lte", value: 2 }])).toEqual(["50% off sign", "snake_case ruler"]);
    expect(await run([{ column: "name", operator: "is", value: "Rake" }])).toEqual(["Rake"]);
    expect((await run([{ column: "name", operator: "neq", value: "Rake" }])).length).toBe(11);
    expect(await run([{ column: "price", operator: "between", value: [12, 16] }])).toEqual(["Bread knife", "Rake"]);
  });
  test("booleans, null and lists", async () => {
    expect((await run([{ column: "published", operator: "is", value: false }])).length).toBe(4);
    expect((await run([{ column: "published", operator: "is true" }])).length).toBe(8);
    expect((await run([{ column: "published", operator: "is false" }])).length).toBe(4);
    expect((await run([{ column: "released_at", operator: "is empty" }])).length).toBe(8);
    expect((await run([{ column: "released_at", operator: "is not empty" }])).length).toBe(4);
    expect(await run([{ column: "name", operator: "in", value: ["Rake", "Whisk", "Nope"] }])).toEqual(["Rake", "Whisk"]);
    expect((await run([{ column: "name", operator: "none of", value: ["Rake", "Whisk"] }])).length).toBe(10);
    expect(await run([{ column: "released_at", operator: "after", value: "2024-02-01" }])).toEqual(["Bread knife", "Garden hose"]);
  });
  test("text operators take % and _ literally; Daptin-style %value% still works", async () => {
    expect(await run([{ column: "name", operator: "contains", value: "50%" }])).toEqual(["50% off sign"]);
    expect(await run([{ column: "name", operator: "contains", value: "e_c" }])).toEqual(["snake_case ruler"]);
    expect(await run([{ column: "name", operator: "contains", value: "%milk%" }])).toEqual(["Milk frother"]);
    expect(await run([{ column: "name", operator: "begins with", value: "Gar" }])).toEqual(["Garden hose"]);
    expect(await run([{ column: "name", operator: "ends with", value: "bin" }])).toEqual(["Compost bin"]);
    expect((await run([{ column: "name", operator: "not contains", value: "e" }])).length).toBe(4);
    expect(await run([{ column: "name", operator: "like", value: "_ake" }])).toEqual(["Rake"]);
    expect(await run([{ column: "name", operator: "fuzzy_all", value: "garden hose" }])).toEqual(["Garden hose"]);
  });
  test("logical_group ORs, groups AND with the rest", async () => {
    const r = await run([
      { column: "published", operator: "is", value: true },
      { column: "name", operator: "contains", value: "knife", logical_group: "g" },
      { column: "name", operator: "contains", value: "rake", logical_group: "g" },
    ]);
    expect(r).toEqual(["Bread knife", "Rake"]);
  });
  test("foreign keys compare by reference id", async () => {
    const r = await run([{ column: "category_id", operator: "is", value: cats.Kitchen }]);
    expect(r.length).toBe(6);
  });
  test("bad queries are 400s", async () => {
    for (const bad of ["[{", '{"column":"name"}', '[{"column":"nope","operator":"is","value":1}]', '[{"column":"name","operator":"explode","value":1}]', '[{"column":"name","operator":"in","value":"x"}]', '[{"column":"category_id","operator":"is","value":"not-a-uuid"}]', "[1]"]) {
      const r = await api(s, "GET", `/api/product?query=${encodeURIComponent(bad)}`);
      expect(`${bad} ${r.status}`).toBe(`${bad} 400`);
      expect(r.body.errors[0].source.parameter).toBe("query");
    }
  });
});

describe("filter, fields and relation filters", () => {
  test("filter searches indexed label columns", async () => {
    const r = await api(s, "GET", "/api/product?filter=gard&page[size]=100");
    expect(names(r)).toEqual(["Garden hose"]);
    expect(r.body.links.total).toBe(1);
  });
  test("fields and fields[type] select attributes", async () => {
    for (const p of ["fields=name,price", "fields[product]=name,price"]) {
      const r = await api(s, "GET", `/api/product?${p}&page[size]=1`);
      expect(Object.keys(r.body.data[0].attributes).sort()).toEqual(["__type", "name", "permission", "price", "reference_id", "user_account_id"]);
    }
    const bad = await api(s, "GET", "/api/product?fields=name,nope");
    expect(bad.status).toBe(400);
    // fields[type] of an included type narrows the included resources.
    const inc = await api(s, "GET", "/api/product?include=category_id&fields[category]=name&page[size]=1");
    expect(Object.keys(inc.body.included[0].attributes).sort()).toEqual(["__type", "name", "permission", "reference_id", "user_account_id"]);
    const wrong = await api(s, "GET", "/api/product?include=category_id&fields[category]=nope");
    expect(wrong.status).toBe(400);
    expect(wrong.body.errors[0].source.parameter).toBe("fields[category]");
  });
  test("?category_id=<uuid> lists the products of a category; the reverse works from category", async () => {
    const r = await api(s, "GET", `/api/product?category_id=${cats.Garden}&page[size]=100`);
    expect(r.body.links.total).toBe(6);
    const bad = await api(s, "GET", `/api/product?category_id=zzz`);
    expect(bad.status).toBe(400);
  });
});

describe("JSON:API-style parameters (kitsu, Orbit)", () => {
  test("filter[column]=a,b keeps rows whose column is one of the values", async () => {
    const r = await api(s, "GET", "/api/product?filter[name]=Rake,Whisk,Nope&sort=name");
    expect(r.status).toBe(200);
    expect(names(r)).toEqual(["Rake", "Whisk"]);
    expect(r.body.links.total).toBe(2);
    expect((await api(s, "GET", "/api/product?filter[published]=false&page[size]=100")).body.links.total).toBe(4);
    expect((await api(s, "GET", "/api/product?filter[released_at]=null&page[size]=100")).body.links.total).toBe(8);
    // Several filters AND; encoded brackets are the same parameter.
    const both = await api(s, "GET", "/api/product?filter%5Bpublished%5D=true&filter[name]=Rake,Zester");
    expect(names(both)).toEqual(["Rake"]);
    const bad = await api(s, "GET", "/api/product?filter[published]=maybe");
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0].source.parameter).toBe("filter[published]");
  });

  test("filter[relation]=<id>,<id> filters like ?relation=", async () => {
    const r = await api(s, "GET", `/api/product?filter[category_id]=${cats.Garden}&page[size]=100`);
    expect(r.body.links.total).toBe(6);
    const any = await api(s, "GET", `/api/product?filter[category_id]=${cats.Garden},${cats.Kitchen}&page[size]=100`);
    expect(any.body.links.total).toBe(12);
    const reverse = await api(s, "GET", `/api/category?filter[product_id]=${r.body.data[0].id}`);
    expect(reverse.body.data.map((c: any) => c.id)).toEqual([cats.Garden]);
    expect((await api(s, "GET", `/api/product?filter[category_id]=zzz`)).status).toBe(400);
  });

  test("page[offset] and page[limit] page the list, with exact totals and offset links", async () => {
    const all = names(await api(s, "GET", "/api/product?page[size]=100&sort=name"));
    const r = await api(s, "GET", "/api/product?sort=name&page[offset]=3&page[limit]=4");
    expect(r.status).toBe(200);
    expect(names(r)).toEqual(all.slice(3, 7));
    expect(r.body.links).toMatchObject({ from: 3, to: 7, per_page: 4, total: 12, current_page: 1, last_page: 3 });
    expect(r.body.meta).toEqual({ current_page: 1, from: 3, last_page: 3, per_page: 4, to: 7, total: 12 });
    expect(r.body.links.next_page_url).toBe("/api/product?page[limit]=4&page[offset]=7&sort=name");
    expect(r.body.links.prev_page_url).toBe("/api/product?page[limit]=4&page[offset]=0&sort=name");
    expect(r.body.links.first_page_url).toBe("/api/product?page[limit]=4&page[offset]=0&sort=name");
    expect(r.body.links.last_page_url).toBe("/api/product?page[limit]=4&page[offset]=8&sort=name");
    // Following next to the end gives every row once.
    const seen: string[] = [];
    let url: string | undefined = "/api/product?sort=name&page[limit]=5";
    while (url) {
      const page: { body: any } = await api(s, "GET", url);
      seen.push(...names(page));
      url = page.body.links.next_page_url;
    }
    expect(seen).toEqual(all);
    expect(names(await api(s, "GET", "/api/product?sort=name&page[offset]=10"))).toEqual(all.slice(10));
    expect((await api(s, "GET", "/api/product?page[offset]=100")).body.data).toEqual([]);
    expect((await api(s, "GET", "/api/product?page[limit]=2&page[size]=2")).status).toBe(400);
  });

  test("filter[id] and query on id take reference ids: no request selects rows by internal id", async () => {
    const all = (await api(s, "GET", "/api/product?page[size]=100&sort=id")).body.data.map((d: any) => d.id);
    const ids = (r: { body: any }) => r.body.data.map((d: any) => d.id);
    expect(ids(await api(s, "GET", `/api/product?sort=id&filter[id]=${all[0]},${all[3]}`))).toEqual([all[0], all[3]]);
    expect(ids(await api(s, "GET", `/api/product?sort=id&${q([{ column: "id", operator: "is", value: all[2] }])}`))).toEqual([all[2]]);
    expect(ids(await api(s, "GET", `/api/product?sort=id&${q([{ column: "id", operator: "in", value: [all[4], all[5]] }])}`))).toEqual([all[4], all[5]]);
    expect((await api(s, "GET", `/api/product?${q([{ column: "id", operator: "none of", value: [all[4]] }])}`)).body.links.total).toBe(11);
    for (const p of ["filter[id]=1", "filter[id]=2,3", `filter[id]=${all[0]},1`]) {
      const r = await api(s, "GET", `/api/product?${p}`);
      expect(`${p} ${r.status}`).toBe(`${p} 400`);
      expect(r.body.errors[0].source.parameter).toBe("filter[id]");
    }
    // Operators that would compare an id column's internal integers: by value, as text, as a truth value.
    const probes = [
      { column: "id", operator: "is", value: 1 },
      { column: "id", operator: "more than", value: 0 },
      { column: "id", operator: "in", value: [1, 2] },
      { column: "id", operator: "contains", value: "1" },
      { column: "id", operator: "like", value: "1%" },
      { column: "id", operator: "is true" },
      { column: "id", operator: "fuzzy", value: "1" },
      { column: "category_id", operator: "contains", value: "1" },
      { column: "category_id", operator: "is true" },
      { column: "name,category_id", operator: "fuzzy_any", value: "1" },
      { column: "reference_id", operator: "ilike", value: "%" },
    ];
    for (const probe of probes) {
      const r = await api(s, "GET", `/api/product?${q([probe])}`);
      expect(`${JSON.stringify(probe)} ${r.status}`).toBe(`${JSON.stringify(probe)} 400`);
      expect(r.body.errors[0].source.parameter).toBe("query");
    }
    // Related listings compile the same filters.
    const related = await api(s, "GET", `/api/category/${cats.Garden}/product_id?filter[id]=1`);
    expect(related.status).toBe(400);
  });

  test("Daptin's cursors: page[after] / page[before] a row (internal order), the total unchanged", async () => {
    const all = (await api(s, "GET", "/api/product?page[size]=100&sort=id")).body.data.map((d: any) => d.id);
    const after = await api(s, "GET", `/api/product?sort=id&page[size]=3&page[after]=${all[4]}`);
    expect(after.body.data.map((d: any) => d.id)).toEqual(all.slice(5, 8));
    expect(after.body.links.total).toBe(12);
    const before = await api(s, "GET", `/api/product?sort=-id&page[size]=2&page[before]=${all[4]}`);
    expect(before.body.data.map((d: any) => d.id)).toEqual([all[3], all[2]]);
    expect((await api(s, "GET", "/api/product?page[after]=nope")).status).toBe(400);
    expect((await api(s, "GET", `/api/product?page[after]=${all[0]}&page[number]=2`)).status).toBe(400);
  });

  test("paging numbers are in meta as well as links; page-number links stay Daptin's", async () => {
    const r = await api(s, "GET", "/api/product?page[size]=5&page[number]=2&sort=name");
    expect(r.body.meta).toEqual({ current_page: 2, from: 5, last_page: 3, per_page: 5, to: 10, total: 12 });
    expect(r.body.links.next_page_url).toBe("/api/product?page[number]=3&page[size]=5&sort=name");
  });

  test("a parameter no list understands is a 400 naming it; Daptin's parameters are all understood", async () => {
    for (const p of ["colour=red", "filter[colour]=red", "page[cursor]=x", "sorting=name", "filters=x", "fields[=x"]) {
      const r = await api(s, "GET", `/api/product?${p}`);
      expect(`${p} ${r.status}`).toBe(`${p} 400`);
      expect(r.body.errors[0].source.parameter).toBe(p.split("=")[0]);
    }
    for (const p of ["group=x", "token=", "filter[]=knife", "included_relations=category_id", "include=category_id", "fields[category]=name", `category_id=${cats.Garden}`, "usergroup_id="]) {
      const r = await api(s, "GET", `/api/product?${p}`);
      expect(`${p} ${r.status}`).toBe(`${p} 200`);
    }
    // Related listings read the same parameters.
    const related = await api(s, "GET", `/api/category/${cats.Garden}/product_id?colour=red`);
    expect(related.status).toBe(400);
  });

  test("query as qs writes it (devour, so daptin-js-client): query[][column]=...&query[][operator]=...", async () => {
    // daptin-js-client's worldManager.refreshWorld: findAll('world', {page: {number: 1, size: 1}, query: [{...}]}).
    const world = await api(s, "GET", "/api/world?page[number]=1&page[size]=1&query[][column]=table_name&query[][operator]=is&query[][value]=product");
    expect(world.status).toBe(200);
    expect(world.body.data.map((w: any) => w.attributes.table_name)).toEqual(["product"]);
    const two = await api(s, "GET", "/api/product?sort=name&query[][column]=price&query[][operator]=gt&query[][value]=20&query[][column]=published&query[][operator]=is&query[][value]=true");
    expect(names(two)).toEqual(["Garden hose"]);
    const list = await api(s, "GET", "/api/product?sort=name&query[0][column]=name&query[0][operator]=in&query[0][value][]=Rake&query[0][value][]=Whisk");
    expect(names(list)).toEqual(["Rake", "Whisk"]);
    const inc = await api(s, "GET", "/api/product?include[]=category_id&page[size]=1");
    expect(inc.body.included.length).toBe(1);
    expect((await api(s, "GET", "/api/product?query[][nope]]=x")).status).toBe(400);
    expect((await api(s, "GET", `/api/product?query=[]&query[][column]=name`)).status).toBe(400);
  });

  test("`is not` without a value is IS NOT NULL (as in Daptin)", async () => {
    for (const value of ["", null, undefined]) {
      const r = await api(s, "GET", `/api/product?page[size]=100&${q([{ column: "released_at", operator: "is not", ...(value === undefined ? {} : { value }) }])}`);
      expect(r.status).toBe(200);
      expect(r.body.links.total).toBe(4);
    }
  });

  test("limits on filter terms, fuzzy words and sort keys are 400s that name the limit", async () => {
    const words = (n: number) => Array.from({ length: n }, (_, i) => `w${i}`);
    const f = await api(s, "GET", `/api/product?filter=${words(21).join(",")}`);
    expect(f.status).toBe(400);
    expect(f.body.errors[0].detail).toContain("at most 20");
    expect((await api(s, "GET", `/api/product?filter=${words(20).join(",")}`)).status).toBe(200);
    const fz = await api(s, "GET", `/api/product?${q([{ column: "name", operator: "fuzzy_any", value: words(21).join(" ") }])}`);
    expect(fz.status).toBe(400);
    expect(fz.body.errors[0].detail).toContain("at most 20");
    const sorted = await api(s, "GET", `/api/product?sort=${Array(11).fill("name").join(",")}`);
    expect(sorted.status).toBe(400);
    expect(sorted.body.errors[0].detail).toContain("at most 10");
    expect((await api(s, "GET", `/api/product?sort=${Array(10).fill("name").join(",")}`)).status).toBe(200);
    const space = await api(s, "GET", "/api/product?sort=+name");
    expect(space.status).toBe(400);
    expect(space.body.errors[0].detail).toContain("%2B");
    expect((await api(s, "GET", "/api/product?sort=%2Bname")).status).toBe(200);
  });
});
