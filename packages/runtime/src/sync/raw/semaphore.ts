/**
 * Raw weighted semaphore: the one-resource case of the robust pool ledger (`raw/pool.ts`),
 * whose layout table says who writes each word. These wrappers fix D = 1.
 */
import * as pool from './pool.js';

export { takenOwnerDied } from './pool.js';

/** The ledger layout of a semaphore with `holders` holder rows. */
export function layoutOf(holders: number): pool.PoolLayout {
  return pool.layoutOf(1, holders);
}

/** Writes a fresh semaphore (zeroed memory) with `permits` permits, all free. */
export function init(view: Int32Array, layout: pool.PoolLayout, permits: number): void {
  pool.init(view, 0, layout, [permits]);
}

/** Permits free now (a snapshot). */
export function available(view: Int32Array, layout: pool.PoolLayout): number {
  return pool.available(view, 0, layout, 0);
}

/** The most permits there can be. */
export function capacity(view: Int32Array, layout: pool.PoolLayout): number {
  return pool.capacity(view, 0, layout, 0);
}
