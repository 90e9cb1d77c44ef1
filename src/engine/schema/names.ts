// Name normalisation shared by schema parsing and the registry.

/** `TodoItem` -> `todo_item`, `Due At` -> `due_at` (Daptin uses flect.Underscore). */
export function underscore(name: string): string {
  return name
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9_]+/g, "_")
    .replace(/_+/g, "_")
    .replace(/^_|_$/g, "")
    .toLowerCase();
}

/** Identifiers we let into SQL: what `underscore` produces, nothing else. */
export const SAFE_IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export function isJoinTableName(name: string): boolean {
  return name.includes("_has_");
}

export function joinTableName(subject: string, subjectName: string, object: string, objectName: string): string {
  return `${subject}_${subjectName}_has_${object}_${objectName}`;
}
