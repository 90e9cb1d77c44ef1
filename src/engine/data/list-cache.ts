// What list requests remember between calls, per table and caller's view (filters + permission values): the total,
// and bookmarks (the sort key of rows at known positions). Both stay exact as the table changes:
// - an insert keeps totals (the rows added since are counted by id range on the next read, see DataService.list)
//   and bookmarks of id orders (a new row sorts last, or first: newest-first bookmarks shift by the rows added);
// - an update keeps views whose filters do not read the changed columns, and bookmarks of orders that do not
//   sort by them;
// - a delete, or any change the cache cannot reason about, forgets the table's entries.
// Writes only bump counters (per table, per column); views and bookmarks check them when next read, so a write
// costs the same however many views are remembered.
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

class TableEntry {
  readonly views = new Map<string, View>();
  /** Counts inserts, so a view knows whether rows were added since it was counted. */
  epoch = 0;
  /** Counts updates; `changed` holds, per column, the count at its last update. */
  updates = 0;
  readonly changed = new Map<string, number>();

  /** Whether `column` was updated after update number `since`. */
  changedSince(column: string, since: number): boolean {
    return (this.changed.get(column) ?? 0) > since;
  }
}

/** The column an order sorts by ("-name" -> "name"; "id" and "-id" sort by the immutable id). */
const orderColumn = (order: string) => order.replace(/^-/, "");

interface Marks {
  byPosition: Map<number, Bookmark>;
  /** The table's insert and update counts when the first of these bookmarks was taken. */
  epoch: number;
  updates: number;
}

export class View {
  /** Rows of the view with id <= `upTo`, counted at insert `epoch` of the table. */
  total: number | undefined;
  upTo = 0;
  epoch = 0;
  /** Per order ("name", "-id", ...). */
  private readonly marks = new Map<string, Marks>();
  /** The table's update count when this view was made: a later update of one of `columns` ends it. */
  readonly born: number;

  /** `columns`: what the view's filters read (an update of them may change which rows belong). */
  constructor(private readonly table: TableEntry, readonly columns: ReadonlySet<string>) {
    this.born = table.updates;
  }

  get stale(): boolean {
    for (const c of this.columns) if (this.table.changedSince(c, this.born)) return true;
    return false;
  }

  /** Whether bookmarks taken for `order` still point at the same positions. */
  private valid(order: string, m: Marks): boolean {
    // A new row sorts last in id order, anywhere in any other; an update moves rows only in orders by its columns.
    if (order !== "id" && m.epoch !== this.table.epoch) return false;
    const column = orderColumn(order);
    return column === "id" || !this.table.changedSince(column, m.updates);
  }

  /** The bookmark at or before `position` closest to it, for rows in `order`. */
  nearest(order: string, position: number): Bookmark | undefined {
    const m = this.marks.get(order);
    if (!m) return undefined;
    if (!this.valid(order, m)) {
      this.marks.delete(order);
      return undefined;
    }
    const exact = m.byPosition.get(position);
    if (exact) return exact;
    let best: Bookmark | undefined;
    for (const b of m.byPosition.values()) if (b.position <= position && (!best || b.position > best.position)) best = b;
    return best;
  }

  /**
   * The view's total caught up with `added` rows inserted since insert `from` (now `to`). New rows sort first in
   * newest-first order: its bookmarks stay right, shifted by that many positions.
   */
  caughtUp(from: number, to: number, added: number): void {
    const m = this.marks.get("-id");
    if (!m || m.epoch !== from) return;
    const shifted = new Map<number, Bookmark>();
    for (const b of m.byPosition.values()) shifted.set(b.position + added, { ...b, position: b.position + added });
    this.marks.set("-id", { ...m, byPosition: shifted, epoch: to });
  }

  mark(order: string, b: Bookmark): void {
    let m = this.marks.get(order);
    if (m && !this.valid(order, m)) m = undefined;
    if (!m || m.byPosition.size >= MAX_BOOKMARKS) {
      m = { byPosition: new Map(), epoch: this.table.epoch, updates: this.table.updates };
      this.marks.set(order, m);
    }
    m.byPosition.set(b.position, b);
  }
}

export class ListCache {
  private readonly tables = new Map<string, TableEntry>();

  private entry(table: string): TableEntry {
    let e = this.tables.get(table);
    if (!e) this.tables.set(table, (e = new TableEntry()));
    return e;
  }

  /** The view of `key`, made anew with the columns its filters read when there is none or it went stale. */
  view(table: string, key: string, columns: () => ReadonlySet<string>): View {
    const e = this.entry(table);
    let v = e.views.get(key);
    if (!v || v.stale) {
      if (e.views.size >= MAX_VIEWS) e.views.clear();
      e.views.set(key, (v = new View(e, columns())));
    }
    return v;
  }

  /** The table's insert counter. */
  epoch(table: string): number {
    return this.entry(table).epoch;
  }

  /** A row was added. */
  inserted(table: string): void {
    const e = this.tables.get(table);
    if (e) e.epoch++;
  }

  /** Rows were updated in `columns`. */
  updated(table: string, columns: readonly string[]): void {
    const e = this.tables.get(table);
    if (!e || columns.length === 0) return;
    e.updates++;
    for (const c of columns) e.changed.set(c, e.updates);
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
