/**
 * Every `Atomics` operation of Tributary goes through this module.
 *
 * The fast-path operations (`load`, `store`, `add`, `sub`, `compareExchange`, `exchange`) are
 * the engine's own functions re-exported: routing through here costs nothing, and so nothing
 * can intercept them. The slow-path operations (`wait`, `waitAsync`, `notify`) are where a thread parks or
 * wakes others; they count how often this thread used them ({@link atomicsStats}) and call the
 * fault hook ({@link setFaultHook}) first, so a test can make a thread die or stall exactly
 * there: parked on a queue, holding permits while it wakes the next, half-way through a
 * release. With no hook set the cost is one comparison, on paths that are about to enter the
 * kernel anyway.
 */

/** Integer typed arrays that Atomics.wait/notify accept. */
export type WaitableArray = Int32Array | BigInt64Array;

// The fast-path operations: the engine's own functions, so routing through here costs nothing.
export const load = Atomics.load;
export const store = Atomics.store;
export const add = Atomics.add;
export const sub = Atomics.sub;
export const compareExchange = Atomics.compareExchange;
export const exchange = Atomics.exchange;

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

/** The slow-path operations a {@link FaultHook} is called before. */
export type SlowOperation = 'wait' | 'waitAsync' | 'notify';

/**
 * Called before each slow-path operation of this thread, with the operation, the word's array
 * and index, and how many slow operations this thread made before it (0-based). It may throw
 * (the operation's caller sees the error), block, or end the thread (`process.exit()` in a
 * worker: the thread dies exactly there, as a crash would).
 */
export type FaultHook = (operation: SlowOperation, view: WaitableArray, index: number, count: number) => void;

let faultHook: FaultHook | undefined;
let slowCount = 0;

/**
 * Sets this thread's fault hook (`undefined`: none, the default). For tests: chaos tests kill
 * a worker at a chosen park or wake to check that nothing waits on the dead thread for good.
 */
export function setFaultHook(hook: FaultHook | undefined): void {
  faultHook = hook;
}

/** Blocks the calling thread until notified, the value differs, or `timeoutMs` passes. */
export function wait(view: WaitableArray, index: number, expected: number | bigint, timeoutMs: number) {
  stats.waits++;
  if (faultHook !== undefined) faultHook('wait', view, index, slowCount++);
  // The cast is safe: the value's type always matches the array's element type at call sites.
  return Atomics.wait(view as Int32Array, index, expected as number, timeoutMs);
}

/** Parks an asynchronous waiter; see `Atomics.waitAsync`. */
export function waitAsync(view: WaitableArray, index: number, expected: number | bigint, timeoutMs: number) {
  stats.asyncWaits++;
  if (faultHook !== undefined) faultHook('waitAsync', view, index, slowCount++);
  return Atomics.waitAsync(view as Int32Array, index, expected as number, timeoutMs);
}

/** Wakes up to `count` waiters sleeping on `view[index]`; returns how many woke. */
export function notify(view: WaitableArray, index: number, count = Number.POSITIVE_INFINITY): number {
  stats.notifies++;
  if (faultHook !== undefined) faultHook('notify', view, index, slowCount++);
  return Atomics.notify(view as Int32Array, index, count);
}
