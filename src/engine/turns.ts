// Long synchronous work (a large schema change) done in turns, so that other requests are answered in between:
// no turn holds the event loop much longer than TURN_MS. The database seam is synchronous; each turn is whole.

/** How long one turn of work may hold the event loop. */
export const TURN_MS = 25;

export const yieldToEventLoop = (): Promise<void> => new Promise((done) => setImmediate(done));

/** Runs a generator of work pieces to its end at once (the same work, for callers that cannot wait). */
export function toEnd<T>(pieces: Generator<void, T>): T {
  for (;;) {
    const next = pieces.next();
    if (next.done) return next.value;
  }
}

/** Runs a generator of work pieces to its end, letting the event loop through about every TURN_MS. */
export async function inTurns<T>(pieces: Generator<void, T>): Promise<T> {
  for (;;) {
    await yieldToEventLoop();
    const started = performance.now();
    while (performance.now() - started < TURN_MS) {
      const next = pieces.next();
      if (next.done) return next.value;
    }
  }
}

/** Runs `run` over `items` in batches of about TURN_MS each, yielding to the event loop between batches. */
export async function inBatches<T>(items: T[], run: (batch: T[]) => void): Promise<void> {
  let i = 0;
  let size = 1;
  while (i < items.length) {
    const started = performance.now();
    const batch = items.slice(i, i + size);
    run(batch);
    i += batch.length;
    const took = performance.now() - started;
    // Statements get slower as the schema grows: size the next batch from the last one's pace.
    size = Math.max(1, Math.min(size * 2, Math.floor((batch.length * TURN_MS) / Math.max(took, 0.01))));
    if (i < items.length) await yieldToEventLoop();
  }
}
