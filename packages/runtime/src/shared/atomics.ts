/**
 * Every `Atomics` operation of Tributary goes through this module, so the algorithms can be
 * counted and fault-injected without edits. The fast-path operations are the engine's own
 * functions re-exported (no wrapper cost); the slow-path ones (`wait`, `waitAsync`, `notify`)
 * also count how often this thread used them, which tests and the tracer read.
 */

/** Integer typed arrays that Atomics.wait/notify accept. */
export type WaitableArray = Int32Array | BigInt64Array;

// The fast-path operations: the engine's own functions, so routing through here costs nothing.
export const load = Atomics.load;
export const store = Atomics.store;
export const add = Atomics.add;
export const sub = Atomics.sub;
export const compareExchange = Atomics.compareExchange;

/** How often this thread blocked, parked asynchronously, and notified. */
export interface AtomicsStats {
  /** Blocking `Atomics.wait` calls made by this thread. */
  waits: number;
  /** `Atomics.waitAsync` calls made by this thread. */
  asyncWaits: number;
  /** `Atomics.notify` calls made by this thread. */
  notifies: number;
}

const stats: AtomicsStats = { waits: 0, asyncWaits: 0, notifies: 0 };

/** A snapshot of this thread's slow-path counters (per thread: workers count their own). */
export function atomicsStats(): AtomicsStats {
  return { ...stats };
}

/** Blocks the calling thread until notified, the value differs, or `timeoutMs` passes. */
export function wait(view: WaitableArray, index: number, expected: number | bigint, timeoutMs: number) {
  stats.waits++;
  // The cast is safe: the value's type always matches the array's element type at call sites.
  return Atomics.wait(view as Int32Array, index, expected as number, timeoutMs);
}

/** Parks an asynchronous waiter; see `Atomics.waitAsync`. */
export function waitAsync(view: WaitableArray, index: number, expected: number | bigint, timeoutMs: number) {
  stats.asyncWaits++;
  return Atomics.waitAsync(view as Int32Array, index, expected as number, timeoutMs);
}

/** Wakes up to `count` waiters sleeping on `view[index]`; returns how many woke. */
export function notify(view: WaitableArray, index: number, count = Number.POSITIVE_INFINITY): number {
  stats.notifies++;
  return Atomics.notify(view as Int32Array, index, count);
}
