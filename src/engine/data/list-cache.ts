// What list requests remember between calls, per table and caller's view (filters + permission values): the total,
// and bookmarks (the sort key of rows at known positions). Both stay exact as the table changes:
// - an insert keeps totals (the rows added since are counted by id range on the next read, see DataService.list)
//   and bookmarks of id-ascending orders (a new row sorts last);
// - an update keeps views whose filters do not read the changed columns, and bookmarks of orders that do not
//   sort by them;
// - a delete, or any change the cache cannot reason about, forgets the table's entries.
//
// Bookmarks make deep pages cheap: page N+1 after page N (a client paging through), or the same deep page again,
// starts at a remembered row instead of walking OFFSET rows from the start.

/** The sort key of one row: the sort column's stored value (absent when sorting by id alone) and the row id. */
export interface Bookmark {
  position: number;
  value?: unknown;
  id: number;
}

/** Views remembered per table, and bookmarks per view and order: beyond these, they are dropped wholesale. */
const MAX_VIEWS = 1000;
const MAX_BOOKMARKS = 128;

export class View {
  /** Rows of the view with id <= `upTo`, counted at insert `epoch` of the table. */
  total: number | undefined;
  upTo = 0;
  epoch = 0;
  /** Per order ("name", "-id", ...): position -> bookmark. */
  private readonly marks = new Map<string, Map<number, Bookmark>>();

  /** `columns`: what the view's filters read (an update of them may change which rows belong). */
  constructor(readonly columns: ReadonlySet<string>) {}

  /** The bookmark at or before `position` closest to it, for rows in `order`. */
  nearest(order: string, position: number): Bookmark | undefined {
    const marks = this.marks.get(order);
    if (!marks) return undefined;
    const exact = marks.get(position);
    if (exact) return exact;
    let best: Bookmark | undefined;
    for (const m of marks.values()) if (m.position <= position && (!best || m.position > best.position)) best = m;
    return best;
  }

  mark(order: string, b: Bookmark): void {
    let marks = this.marks.get(order);
    if (!marks) this.marks.set(order, (marks = new Map()));
    if (marks.size >= MAX_BOOKMARKS) marks.clear();
    marks.set(b.position, b);
  }

  /** Drops the bookmarks of orders `keep` rejects. */
  dropOrders(keep: (order: string) => boolean): void {
    for (const order of [...this.marks.keys()]) if (!keep(order)) this.marks.delete(order);
  }
}

interface TableEntry {
  views: Map<string, View>;
  /** Counts inserts, so a view knows whether rows were added since it was counted. */
  epoch: number;
}

/** The column an order sorts by ("-name" -> "name"; "id" and "-id" sort by the immutable id). */
const orderColumn = (order: string) => order.replace(/^-/, "");

export class ListCache {
  private readonly tables = new Map<string, TableEntry>();

  private entry(table: string): TableEntry {
    let e = this.tables.get(table);
    if (!e) this.tables.set(table, (e = { views: new Map(), epoch: 0 }));
    return e;
  }

  /** The view of `key`, created with the columns its filters read. */
  view(table: string, key: string, columns: () => ReadonlySet<string>): View {
    const e = this.entry(table);
    let v = e.views.get(key);
    if (!v) {
      if (e.views.size >= MAX_VIEWS) e.views.clear();
      e.views.set(key, (v = new View(columns())));
    }
    return v;
  }

  /** The table's insert counter. */
  epoch(table: string): number {
    return this.entry(table).epoch;
  }

  /** A row was added: totals catch up by id range when next read; only id-ascending bookmarks stay in place. */
  inserted(table: string): void {
    const e = this.tables.get(table);
    if (!e) return;
    e.epoch++;
    for (const v of e.views.values()) v.dropOrders((order) => order === "id");
  }

  /** Rows were updated in `columns`: views filtering on them go, so do bookmarks of orders sorting by them. */
  updated(table: string, columns: readonly string[]): void {
    const e = this.tables.get(table);
    if (!e) return;
    for (const [key, v] of e.views) {
      if (columns.some((c) => v.columns.has(c))) e.views.delete(key);
      else v.dropOrders((order) => !columns.includes(orderColumn(order)));
    }
  }

  /**
   * Forgets one table's entries, or everything. A change to sharing rows changes which rows of the shared table
   * callers see: its entries go too, unless `withShared` is false.
   */
  forget(table?: string, withShared = true): void {
    if (table === undefined) {
      this.tables.clear();
      return;
    }
    this.tables.delete(table);
    const shared = /^(.+)_\1_id_has_usergroup_usergroup_id$/.exec(table);
    if (shared && withShared) this.tables.delete(shared[1]!);
  }
}
