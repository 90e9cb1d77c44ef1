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
  // A lookup table beats Buffer#toString here: touching `.buffer` of a SQLite blob copies it.
  return (
    HEX[b[0]!]! + HEX[b[1]!] + HEX[b[2]!] + HEX[b[3]!] + "-" + HEX[b[4]!] + HEX[b[5]!] + "-" + HEX[b[6]!] + HEX[b[7]!] + "-" +
    HEX[b[8]!] + HEX[b[9]!] + "-" + HEX[b[10]!] + HEX[b[11]!] + HEX[b[12]!] + HEX[b[13]!] + HEX[b[14]!] + HEX[b[15]!]
  );
}
