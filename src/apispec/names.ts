// Names in the document: PascalCase for schemas and operation ids (`user_account` -> `UserAccount`).

export function pascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}

/** Operation ids must be unique; a clash (rare, from odd table names) gets a numeric suffix. */
export class UniqueIds {
  private seen = new Set<string>();

  take(id: string): string {
    let out = id;
    for (let i = 2; this.seen.has(out); i++) out = `${id}${i}`;
    this.seen.add(out);
    return out;
  }
}
