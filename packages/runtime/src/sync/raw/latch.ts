/**
 * Raw countdown latch: pure functions over one Int32 word.
 *
 * | word  | meaning                                   | written by              |
 * | ----- | ----------------------------------------- | ----------------------- |
 * | COUNT | count-downs still needed; 0 means open    | creator once, counters  |
 */
import * as atomics from '../../shared/atomics.js';
import { Park } from '../../shared/wait.js';

export const COUNT = 0;
export const WORDS = 1;

/**
 * Counts down by `n`, waking every waiter at zero. Returns the count seen when `n` exceeds
 * it (nothing changed), `undefined` on success.
 */
export function countDown(view: Int32Array, n: number): number | undefined {
  for (;;) {
    const c = atomics.load(view, COUNT);
    if (n > c) return c;
    if (atomics.compareExchange(view, COUNT, c, c - n) !== c) continue;
    // Only the count-down that reaches zero wakes: earlier ones change nothing a waiter needs.
    if (c === n) atomics.notify(view, COUNT);
    return undefined;
  }
}

/** One step of waiting: open, or where to park. */
export function waitStep(view: Int32Array): true | Park {
  const c = atomics.load(view, COUNT);
  return c === 0 || new Park(view, COUNT, c);
}
