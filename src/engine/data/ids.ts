// Reference ids: UUIDs in the API, 16 raw bytes in the `reference_id` blob column (as Daptin stores them).

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export const isUuid = (s: unknown): s is string => typeof s === "string" && UUID.test(s);

export function newReferenceId(): string {
  return Bun.randomUUIDv7();
}

export function uuidToBytes(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ""), "hex"));
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

export function bytesToUuid(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value; // a database written by something that stored text UUIDs
  const b = value as Uint8Array;
  if (b.length !== 16) return null;
  let s = "";
  for (let i = 0; i < 16; i++) {
    s += HEX[b[i]!];
    if (i === 3 || i === 5 || i === 7 || i === 9) s += "-";
  }
  return s;
}
