/**
 * The cross-thread clock. `performance.now()` has a different origin in every worker, so any
 * time written into shared memory and compared by another thread is epoch milliseconds.
 *
 * Times stored in Int32 words (heartbeats, start stamps) are offsets from an epoch chosen by
 * whoever laid the memory out, plus one, so that 0 can mean "never". An Int32 offset wraps
 * after 24.8 days, which bounds one run or one heartbeat monitor.
 */

/** Epoch milliseconds, comparable across threads and processes of one machine. */
export const now: () => number = Date.now;

/** The Int32 word that records `at` (default: now) relative to `epochMs`; never 0. */
export function offsetFrom(epochMs: number, at: number = now()): number {
  return at - epochMs + 1;
}

/** The epoch ms a word written by {@link offsetFrom} records, or undefined for 0 ("never"). */
export function instantOf(epochMs: number, offset: number): number | undefined {
  return offset === 0 ? undefined : epochMs + offset - 1;
}
