/**
 * Mutex: a robust mutual-exclusion lock in shared memory, usable from any thread that has its handle.
 *
 * Layout: one Int32 word, described in `raw/mutex.ts`.
 *
 * **Fairness.** Not fair: a releasing thread may take the lock again before a woken waiter
 * runs (barging), which keeps throughput high; use a `Semaphore` of one permit for FIFO order.
 *
 * **Owner death.** If the holder dies, the next `lock()` succeeds with `guard.ownerDied === true`
 * (POSIX EOWNERDEAD): the data it guards may be half-updated, and the new owner decides.
 *
 * **Memory consistency.** Writes a thread makes before releasing are visible to the next thread
 * that acquires.
 *
 * **Differences from a POSIX mutex.** `lock()` blocks only in workers; the main thread uses
 * `lockAsync()`. Locking a mutex the calling thread already holds through `lock()` throws
 * instead of deadlocking.
 *
 * @example
 * ```ts
 * const m = new Mutex();
 * worker.postMessage(m.handle);          // in the worker: const m = Mutex.from(handle)
 * { using g = m.lock({ timeoutMs: 1000 }); shared[0]++; }
 * ```
 */
import { int32s, type Placement } from '../shared/arena.js';
import { InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { currentToken } from '../shared/thread.js';
import { checkWaitOptions, startWait, untilAsync, untilSync, Park, type WaitOptions } from '../shared/wait.js';
import * as atomics from '../shared/atomics.js';
import { alreadyReleased } from './guard.js';
import * as raw from './raw/mutex.js';
import { registerRobustWord } from './robust.js';
import { callback } from '../shared/validate.js';

/** Structured-cloneable description of a {@link Mutex}. */
export type MutexHandle = Handle<'Mutex'>;

const WORD = 0;

/**
 * Proof of holding a {@link Mutex}; release it with `unlock()` or `using`.
 *
 * Not a `Guard` subclass, unlike the other guards: the uncontended `lock()` allocates one guard
 * per call, and V8 builds a derived class's instance measurably slower (25 -> 32 ns per
 * lock+unlock against a 22 ns bare futex, same run). Its once-only release is the same rule.
 */
export class MutexGuard implements Disposable {
  /** True when the previous holder died holding the lock: check the data it guards. */
  readonly ownerDied: boolean;
  #view: Int32Array | null;

  /** @internal */
  constructor(view: Int32Array, ownerDied: boolean) {
    this.#view = view;
    this.ownerDied = ownerDied;
  }

  /** Whether this guard still holds the lock. */
  get held(): boolean {
    return this.#view !== null;
  }

  /**
   * Releases the lock.
   * @throws InvalidStateError when this guard already released it.
   */
  unlock(): void {
    const view = this.#view;
    if (view === null) throw alreadyReleased('this MutexGuard');
    this.#view = null;
    raw.unlock(view, WORD, currentToken);
  }

  /** Releases the lock unless `unlock()` already did. */
  [Symbol.dispose](): void {
    if (this.#view !== null) this.unlock();
  }
}

/** A robust futex mutex in shared memory. See the module documentation. */
export class Mutex {
  readonly #handle: MutexHandle;
  readonly #view: Int32Array;

  /** A new, unlocked mutex in its own buffer or in `options.arena`. */
  constructor(options?: Placement) {
    const { handle } = claimRegion('Mutex', 4, options);
    this.#handle = handle;
    this.#view = int32s(handle, 1);
    registerRobustWord(handle.buffer, handle.byteOffset / 4);
  }

  /** Rebuilds, in this thread, the mutex that `handle` describes. */
  static from(handle: MutexHandle): Mutex {
    return adopt(handle, () => new Mutex());
  }

  /** The structured-cloneable handle; pass it to a worker and call `Mutex.from` there. */
  get handle(): MutexHandle {
    return this.#handle;
  }

  /** Whether some thread holds the lock right now (a snapshot). */
  get isLocked(): boolean {
    return raw.ownerOf(atomics.load(this.#view, WORD)) !== 0;
  }

  /** Takes the lock if it is free, without waiting. */
  tryLock(): MutexGuard | null {
    const r = raw.tryLock(this.#view, WORD, currentToken);
    if (r === raw.ACQUIRED) return new MutexGuard(this.#view, false);
    if (r === raw.ACQUIRED_OWNER_DIED) return new MutexGuard(this.#view, true);
    return null;
  }

  /**
   * Takes the lock, blocking the thread while another holds it. Workers only.
   * @throws TimeoutError | AbortedError when the wait gives up; InvalidStateError when this
   * thread already holds it, or when called on the main thread and the lock is taken.
   */
  lock(options?: WaitOptions): MutexGuard {
    checkWaitOptions(options);
    return this.tryLock() ?? untilSync(startWait('Mutex.lock', options), this.#attempt(true));
  }

  /** Takes the lock without blocking the event loop (for the main thread; works anywhere). */
  async lockAsync(options?: WaitOptions): Promise<MutexGuard> {
    checkWaitOptions(options);
    return this.tryLock() ?? untilAsync(startWait('Mutex.lockAsync', options), this.#attempt(false));
  }

  /** Runs `fn` holding the lock (blocking acquire), releasing it however `fn` ends. */
  withLock<T>(fn: (guard: MutexGuard) => T, options?: WaitOptions): T {
    callback('fn', fn);
    using guard = this.lock(options);
    return fn(guard);
  }

  /** Runs `fn` holding the lock (asynchronous acquire), releasing it however `fn` ends. */
  async withLockAsync<T>(fn: (guard: MutexGuard) => T | Promise<T>, options?: WaitOptions): Promise<T> {
    callback('fn', fn);
    using guard = await this.lockAsync(options);
    return await fn(guard);
  }

  #attempt(blocking: boolean): () => MutexGuard | Park {
    const view = this.#view;
    return () => {
      const r = raw.lockStep(view, WORD, currentToken);
      if (r === raw.ACQUIRED) return new MutexGuard(view, false);
      if (r === raw.ACQUIRED_OWNER_DIED) return new MutexGuard(view, true);
      // A blocking lock by the holder itself can never succeed; say so instead of timing out.
      if (blocking && raw.ownerOf(r) === currentToken) {
        throw new InvalidStateError('Mutex.lock: this thread already holds the mutex (it is not re-entrant)');
      }
      return new Park(view, WORD, r);
    };
  }
}
