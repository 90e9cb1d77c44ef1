// How much script time the server thread gives away per second. The outcome chain waits for each evaluation
// synchronously, and concurrent action calls are served one after another on that one thread, so their waits add
// up: 8 clients looping a call of 500 ms held /ping for 4 s. One call's own limit (ScriptBudget) bounds that call;
// these bound a client address and all callers together over any second, so no number of callers holds the server
// longer than LIMITS.windowTimeMs a second, and one client cannot take all of it from the others.
import { LIMITS } from "./protocol.ts";

/** Script time spent over the last LIMITS.windowMs, in slots of SLOT_MS (a wait counts in the slot where it ends). */
export class TimeWindow {
  private static readonly SLOT_MS = 50;
  private readonly count = Math.ceil(LIMITS.windowMs / TimeWindow.SLOT_MS);
  private readonly spent = new Float64Array(this.count);
  /** The slot number (time / SLOT_MS) each entry counts for. */
  private readonly slotOf = new Float64Array(this.count).fill(-Infinity);
  private last = -Infinity;

  constructor(readonly limitMs: number) {}

  remainingMs(now: number): number {
    const oldest = Math.floor(now / TimeWindow.SLOT_MS) - this.count;
    let sum = 0;
    for (let i = 0; i < this.count; i++) if (this.slotOf[i]! > oldest) sum += this.spent[i]!;
    return this.limitMs - sum;
  }

  spend(now: number, ms: number): void {
    const slot = Math.floor(now / TimeWindow.SLOT_MS);
    const i = ((slot % this.count) + this.count) % this.count;
    if (this.slotOf[i] !== slot) {
      this.slotOf[i] = slot;
      this.spent[i] = 0;
    }
    this.spent[i]! += ms;
    this.last = slot;
  }

  /** Whether nothing spent is still in the window (an idle client's window can be forgotten). */
  empty(now: number): boolean {
    return this.last <= Math.floor(now / TimeWindow.SLOT_MS) - this.count;
  }
}

/** All callers together. */
export const everyone = new TimeWindow(LIMITS.windowTimeMs);

/** Client addresses remembered at once; past it idle ones go first, then the least recently used. */
const MAX_CLIENTS = 10_000;
const clients = new Map<string, TimeWindow>();

/** The window of one client address ("" for calls that did not come over HTTP: the CLI, the engine's own). */
export function windowOf(client: string, now: number): TimeWindow {
  let w = clients.get(client);
  if (w) {
    clients.delete(client); // re-inserted below: the map's order is least recently used first
  } else {
    if (clients.size >= MAX_CLIENTS) {
      for (const [k, v] of clients) if (v.empty(now)) clients.delete(k);
      for (const k of clients.keys()) {
        if (clients.size < MAX_CLIENTS * 0.9) break;
        clients.delete(k);
      }
    }
    w = new TimeWindow(LIMITS.clientTimeMs);
  }
  clients.set(client, w);
  return w;
}
