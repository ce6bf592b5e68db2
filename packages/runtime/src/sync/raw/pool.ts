/**
 * Raw multi-dimensional pool counters: pure functions over `2 * D` Int32 words, all or nothing.
 * The FIFO order lives in `raw/fifo.ts`; the typed `ResourcePool` puts the two together.
 *
 * | word            | meaning                               | written by                  |
 * | --------------- | ------------------------------------- | --------------------------- |
 * | AVAILABLE + d   | free amount of dimension d            | acquirers, releasers        |
 * | D + d           | capacity of dimension d; set once     | the creating thread         |
 */
import * as atomics from '../../shared/atomics.js';

/**
 * Takes `amounts` (one per dimension) as a whole, or nothing: claims each dimension with a
 * compare-exchange and, if a later one falls short, gives the earlier ones back. Returns
 * `true`, or the number of dimensions it had to give back (so the caller can wake whoever
 * saw the short-lived shortage).
 */
export function take(view: Int32Array, amounts: readonly number[]): true | number {
  for (let d = 0; d < amounts.length; d++) {
    const want = amounts[d]!;
    if (want === 0) continue;
    if (!takeOne(view, d, want)) {
      for (let e = 0; e < d; e++) if (amounts[e]! > 0) atomics.add(view, e, amounts[e]!);
      return d;
    }
  }
  return true;
}

function takeOne(view: Int32Array, d: number, want: number): boolean {
  for (;;) {
    const a = atomics.load(view, d);
    if (a < want) return false;
    if (atomics.compareExchange(view, d, a, a - want) === a) return true;
  }
}

/**
 * Gives `amounts` back, dimension by dimension. Returns the first dimension that would exceed
 * its capacity (left unchanged, as are the later ones), or -1 on success.
 */
export function give(view: Int32Array, amounts: readonly number[]): number {
  const dims = amounts.length;
  for (let d = 0; d < dims; d++) {
    const amount = amounts[d]!;
    if (amount === 0) continue;
    for (;;) {
      const a = atomics.load(view, d);
      if (a + amount > atomics.load(view, dims + d)) return d;
      if (atomics.compareExchange(view, d, a, a + amount) === a) break;
    }
  }
  return -1;
}
