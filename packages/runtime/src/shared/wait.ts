/**
 * Bounded parking on a shared word, blocking (workers) or asynchronous (main thread).
 *
 * Callers follow one discipline: read the word they will sleep on, re-check their condition,
 * then park with the value they read. A change between the check and the park makes the wait
 * return at once ("not-equal"), so no wake-up is lost. A return only means "look again".
 *
 * Every park is bounded: by the caller's deadline, its `AbortSignal`, and on the main thread by
 * the rule that it never blocks (blocking calls there throw {@link InvalidStateError}).
 */
import * as atomics from './atomics.js';
import type { WaitableArray } from './atomics.js';
import { now } from './clock.js';
import { AbortedError, InvalidStateError, TimeoutError } from './errors.js';
import { onMainThread } from './thread.js';
import { isTracing, traceNow, traceSpan } from './trace.js';
import { nonNegativeFinite, optionalSignal, optionsObject } from './validate.js';

/** Options every blocking or asynchronous wait of Tributary accepts. */
export interface WaitOptions {
  /** Give up with a `TimeoutError` after this many milliseconds. Default: wait without a time limit. */
  readonly timeoutMs?: number;
  /** Give up with an `AbortedError` when this signal aborts. Default: none. */
  readonly signal?: AbortSignal;
}

/** One wait in progress: its absolute deadline and what to say when it fails. */
export interface WaitContext {
  /** Epoch ms after which the wait times out; `Infinity` for none. */
  readonly deadline: number;
  readonly timeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  /** What is being waited for, for error messages ("Mutex.lock"). */
  readonly what: string;
  /** What a timed-out caller should look at, for the message. */
  readonly advice: string;
}

/** The advice of a wait for a holder to let go. */
const HOLDER_ADVICE = 'find who holds it too long';

/** Why a park returned. */
export const WOKEN = 0;
export const TIMED_OUT = 1;
export const ABORTED = 2;
export type ParkOutcome = typeof WOKEN | typeof TIMED_OUT | typeof ABORTED;

/**
 * Validates wait options at the door, before any fast path, so a bad option fails the same way
 * whether or not the call would have had to wait.
 */
export function checkWaitOptions(options: WaitOptions | undefined): void {
  if (options === undefined) return;
  optionsObject('options', options);
  if (options.timeoutMs !== undefined) nonNegativeFinite('options.timeoutMs', options.timeoutMs);
  optionalSignal('options.signal', options.signal);
}

/**
 * Validates `options` and fixes the deadline now. `advice` says what a caller that timed out
 * should look at (default: whoever holds what it waits for).
 */
export function startWait(what: string, options: WaitOptions | undefined, advice = HOLDER_ADVICE): WaitContext {
  checkWaitOptions(options);
  const timeoutMs = options?.timeoutMs;
  return { deadline: timeoutMs === undefined ? Infinity : now() + timeoutMs, timeoutMs, signal: options?.signal, what, advice };
}

/** The typed error for a failed park. */
export function waitError(ctx: WaitContext, outcome: ParkOutcome): Error {
  if (outcome === ABORTED) {
    return new AbortedError(`${ctx.what} was aborted`, { cause: ctx.signal?.reason });
  }
  return new TimeoutError(
    `${ctx.what} timed out after ${ctx.timeoutMs} ms; raise options.timeoutMs or ${ctx.advice}`,
  );
}

// A signal made by a stream context is also aborted through a word in shared memory, because a
// worker whose event loop is blocked in Atomics.wait can receive no abort message.
interface SharedAbortLink {
  readonly view: Int32Array;
  readonly index: number;
  readonly controller: AbortController;
  readonly reason: () => unknown;
}
const sharedLinks = new WeakMap<AbortSignal, SharedAbortLink>();

/** Longest single blocking park while a shared abort word must be polled. */
const SHARED_ABORT_POLL_MS = 20;

/**
 * Hears about this thread's waits (a stream's worker sets one per task). `parked` is called
 * when a wait first parks, `woke` when that wait ends (however it ends), and `sliced` at least
 * every `sliceMs` while parked. The coordinator uses them to give a parked stream's core to a
 * queued stream (compensation) and to let a supervised stream beat while it waits: a stream
 * parked at a barrier, a lock or a checkpoint is waiting, not stuck.
 */
export interface ParkObserver {
  parked(view: WaitableArray): void;
  sliced(): void;
  woke(): void;
}
let observer: ParkObserver | undefined;
let parkSliceMs = Infinity;

/** Sets this thread's {@link ParkObserver} (undefined: none); parks are sliced to `sliceMs`. */
export function setParkObserver(next: ParkObserver | undefined, sliceMs = Infinity): void {
  observer = next;
  parkSliceMs = next === undefined ? Infinity : sliceMs;
}

/**
 * Ties `controller.signal` to `view[index]`: once the word is non-zero, blocking waits given
 * this signal abort within {@link SHARED_ABORT_POLL_MS} even though the thread's event loop is blocked.
 */
export function linkAbortToWord(
  controller: AbortController,
  view: Int32Array,
  index: number,
  reason: () => unknown = () => new AbortedError('the stream was cancelled'),
): void {
  sharedLinks.set(controller.signal, { view, index, controller, reason });
}

/** Unties `signal` from its word (see {@link linkAbortToWord}): the word may mean something else from now on. */
export function unlinkAbortFromWord(signal: AbortSignal): void {
  sharedLinks.delete(signal);
}

/** Whether `signal` has aborted, looking at its shared word too. */
export function isAborted(signal: AbortSignal | undefined): boolean {
  if (signal === undefined) return false;
  if (signal.aborted) return true;
  const link = sharedLinks.get(signal);
  if (link !== undefined && atomics.load(link.view, link.index) !== 0) {
    link.controller.abort(link.reason());
    return true;
  }
  return false;
}

/** The outcome if the wait must end before parking again, else `undefined`. */
function expired(ctx: WaitContext): ParkOutcome | undefined {
  if (isAborted(ctx.signal)) return ABORTED;
  // Skip the clock when there is no deadline: this runs on every park of a contended lock.
  if (ctx.deadline !== Infinity && now() >= ctx.deadline) return TIMED_OUT;
  return undefined;
}

/**
 * Blocks until `view[index]` may differ from `expected`, the deadline passes, or the signal aborts.
 * @throws InvalidStateError on the main thread, which must use the asynchronous twin.
 */
export function parkSync(view: WaitableArray, index: number, expected: number | bigint, ctx: WaitContext): ParkOutcome {
  const early = expired(ctx);
  if (early !== undefined) return early;
  if (onMainThread) {
    throw new InvalidStateError(`${ctx.what} would block the main thread's event loop; call its async variant there`);
  }
  let slice = Math.min(parkSliceMs, ctx.deadline === Infinity ? Infinity : ctx.deadline - now());
  if (ctx.signal !== undefined && sharedLinks.has(ctx.signal)) slice = Math.min(slice, SHARED_ABORT_POLL_MS);
  atomics.wait(view, index, expected, slice);
  observer?.sliced();
  return WOKEN;
}

const KEEP_ALIVE_MS = 2 ** 30;
const noop = (): void => {};

/**
 * The asynchronous twin of {@link parkSync}: parks with `Atomics.waitAsync` and holds a ref'd
 * timer so the process stays alive while someone waits.
 */
export async function parkAsync(
  view: WaitableArray,
  index: number,
  expected: number | bigint,
  ctx: WaitContext,
): Promise<ParkOutcome> {
  const early = expired(ctx);
  if (early !== undefined) return early;
  const remaining = Math.min(parkSliceMs, ctx.deadline === Infinity ? Infinity : ctx.deadline - now());
  const parked = atomics.waitAsync(view, index, expected, remaining);
  if (!parked.async) return parked.value === 'timed-out' ? TIMED_OUT : WOKEN;
  return new Promise<ParkOutcome>((resolve) => {
    let settled = false;
    const keepAlive = setTimeout(noop, Math.min(remaining, KEEP_ALIVE_MS));
    const onAbort = (): void => {
      settled = true;
      clearTimeout(keepAlive);
      resolve(ABORTED);
    };
    ctx.signal?.addEventListener('abort', onAbort, { once: true });
    void parked.value.then((value) => {
      if (settled) {
        // An abandoned waiter cannot leave V8's queue; if it swallowed a wake-up meant for a
        // live waiter, pass the wake-up on so nobody sleeps through a release.
        if (value === 'ok') atomics.notify(view, index, 1);
        return;
      }
      settled = true;
      clearTimeout(keepAlive);
      ctx.signal?.removeEventListener('abort', onAbort);
      observer?.sliced();
      // A slice that ran out is not the wait timing out: the caller looks again.
      resolve(value === 'timed-out' && now() >= ctx.deadline ? TIMED_OUT : WOKEN);
    });
  });
}

/** What a failed attempt asks for: park on `view[index]` while it still holds `expected`. */
export class Park {
  constructor(
    readonly view: WaitableArray,
    readonly index: number,
    readonly expected: number | bigint,
  ) {}
}

/** One try at a condition: its result, or where to park before the next try. */
export type Attempt<T> = () => T | Park;

/**
 * Failed attempts a blocking hand-off waiter (FIFO queues, barriers) retries before it parks:
 * a hand-off between running threads takes well under a microsecond, a futex wake-up tens of
 * them. The Mutex does not spin: its barging fast path already avoids hand-offs, and spinning
 * there only adds cache-line traffic (measured: contended throughput fell by a third).
 */
export const HANDOFF_SPINS = 64;

/** Undoes a waiter's announcement when it gives up; returns a result if it succeeded meanwhile. */
export type GiveUp<T> = () => T | undefined;

/** Tells this thread's observer that a wait parks on `view`; returns it, to be told when the wait ends. */
function enterPark(view: WaitableArray): ParkObserver | undefined {
  observer?.parked(view);
  return observer;
}

/**
 * Retries `attempt` until it succeeds, parking (blocking) between tries. When the deadline
 * passes or the signal aborts, `onGiveUp` undoes what the waiter announced and the typed error
 * is thrown, unless `onGiveUp` finds the wait succeeded after all and returns that result.
 * `spinLimit` failed attempts are retried at once before the first park.
 */
export function untilSync<T>(ctx: WaitContext, attempt: Attempt<T>, onGiveUp?: GiveUp<T>, spinLimit = 0): T {
  let parkedAt: number | undefined;
  // null until the wait first parks; then the observer told (an async wait may outlive a task's observer).
  let told: ParkObserver | undefined | null = null;
  try {
    for (let spins = 0; ; spins++) {
      const result = attempt();
      if (!(result instanceof Park)) return result;
      if (spins < spinLimit) continue;
      if (told === null) told = enterPark(result.view);
      if (parkedAt === undefined && isTracing()) parkedAt = traceNow();
      const outcome = parkSync(result.view, result.index, result.expected, ctx);
      if (outcome !== WOKEN) {
        const late = onGiveUp?.();
        if (late !== undefined) return late;
        throw waitError(ctx, outcome);
      }
    }
  } finally {
    told?.woke();
    if (parkedAt !== undefined) traceSpan('wait', ctx.what, parkedAt);
  }
}

/** The asynchronous twin of {@link untilSync}. */
export async function untilAsync<T>(ctx: WaitContext, attempt: Attempt<T>, onGiveUp?: GiveUp<T>): Promise<T> {
  let parkedAt: number | undefined;
  // null until the wait first parks; then the observer told (an async wait may outlive a task's observer).
  let told: ParkObserver | undefined | null = null;
  try {
    for (;;) {
      const result = attempt();
      if (!(result instanceof Park)) return result;
      if (told === null) told = enterPark(result.view);
      if (parkedAt === undefined && isTracing()) parkedAt = traceNow();
      const outcome = await parkAsync(result.view, result.index, result.expected, ctx);
      if (outcome !== WOKEN) {
        const late = onGiveUp?.();
        if (late !== undefined) return late;
        throw waitError(ctx, outcome);
      }
    }
  } finally {
    told?.woke();
    if (parkedAt !== undefined) traceSpan('wait', ctx.what, parkedAt);
  }
}
