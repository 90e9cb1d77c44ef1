// What list requests remember between calls, per table and caller's view (filters + permission values): the total,
// and bookmarks (the sort key of rows at known positions). Both stay exact until a write touches the table, when
// the table's entries are forgotten (DataService.committed).
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

class View {
  total: number | undefined;
  /** Per order ("name", "-id", ...): position -> bookmark. */
  private readonly marks = new Map<string, Map<number, Bookmark>>();

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
}

export class ListCache {
  private readonly tables = new Map<string, Map<string, View>>();

  view(table: string, key: string): View {
    let views = this.tables.get(table);
    if (!views) this.tables.set(table, (views = new Map()));
    let v = views.get(key);
    if (!v) {
      if (views.size >= MAX_VIEWS) views.clear();
      views.set(key, (v = new View()));
    }
    return v;
  }

  /** Forgets one table's entries (and those of the table whose sharing rows it holds), or everything. */
  forget(table?: string): void {
    if (table === undefined) {
      this.tables.clear();
      return;
    }
    this.tables.delete(table);
    const shared = /^(.+)_\1_id_has_usergroup_usergroup_id$/.exec(table);
    if (shared) this.tables.delete(shared[1]!);
  }
}
