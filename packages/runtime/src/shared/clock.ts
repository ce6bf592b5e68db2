/**
 * The cross-thread clock. `performance.now()` has a different origin in every worker, so any
 * time written into shared memory and compared by another thread is epoch milliseconds.
 */

/** Epoch milliseconds, comparable across threads and processes of one machine. */
export const now: () => number = Date.now;
