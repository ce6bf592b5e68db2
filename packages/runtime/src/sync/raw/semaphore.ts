/**
 * Raw weighted semaphore counters: pure functions over two Int32 words. The FIFO order lives in
 * `raw/fifo.ts`; the typed `Semaphore` puts the two together.
 *
 * | word     | meaning                                      | written by                   |
 * | -------- | -------------------------------------------- | ---------------------------- |
 * | PERMITS  | permits free now                             | acquirers (take), releasers  |
 * | CAPACITY | the most permits there can be; set at creation | the creating thread, once  |
 */
import * as atomics from '../../shared/atomics.js';

export const PERMITS = 0;
export const CAPACITY = 1;
/** Int32 words of the counters (a FIFO queue follows them in a Semaphore). */
export const WORDS = 2;

/** Takes `n` permits if that many are free; returns whether it did. */
export function take(view: Int32Array, n: number): boolean {
  for (;;) {
    const p = atomics.load(view, PERMITS);
    if (p < n) return false;
    // A compare-exchange, not a sub: permits must never go negative, even for a moment.
    if (atomics.compareExchange(view, PERMITS, p, p - n) === p) return true;
  }
}

/**
 * Returns `n` permits. Returns the permits there would have been instead when that exceeds the
 * capacity (a release without an acquire), changing nothing; `undefined` on success.
 */
export function give(view: Int32Array, n: number): number | undefined {
  for (;;) {
    const p = atomics.load(view, PERMITS);
    if (p + n > atomics.load(view, CAPACITY)) return p + n;
    if (atomics.compareExchange(view, PERMITS, p, p + n) === p) return undefined;
  }
}
