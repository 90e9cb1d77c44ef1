// Reference ids: UUIDs in the API, 16 raw bytes in the `reference_id` blob column (as Daptin stores them).

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export const isUuid = (s: unknown): s is string => typeof s === "string" && UUID.test(s);

export function newReferenceId(): string {
  return Bun.randomUUIDv7();
}

export function uuidToBytes(uuid: string): Uint8Array {
  return Uint8Array.from(Buffer.from(uuid.replace(/-/g, ""), "hex"));
}

/** ASCII codes of each byte's two hex digits. */
const HEX_CODES: [number, number][] = Array.from({ length: 256 }, (_, i) => {
  const h = i.toString(16).padStart(2, "0");
  return [h.charCodeAt(0), h.charCodeAt(1)];
});
const uuidText = new Uint8Array(36);
const latin1 = new TextDecoder("latin1");

export function bytesToUuid(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value; // a database written by something that stored text UUIDs
  const b = value as Uint8Array;
  if (b.length !== 16) return null;
  // Written as ASCII and decoded in one go: a flat string. Concatenating 20 pieces makes a rope that
  // JSON.stringify must flatten later, which costs more than this whole function (measured on list pages).
  let j = 0;
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) uuidText[j++] = 45; // "-"
    const h = HEX_CODES[b[i]!]!;
    uuidText[j++] = h[0];
    uuidText[j++] = h[1];
  }
  return latin1.decode(uuidText);
}
