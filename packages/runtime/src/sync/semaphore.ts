/**
 * Semaphore: a weighted counting semaphore in shared memory.
 *
 * Layout (Int32 words): `PERMITS` (available now), `CAPACITY` (the most there can be), then a
 * FIFO ticket queue (`raw/fifo.ts`).
 *
 * **Fairness.** FIFO: once a request waits, later requests queue behind it even if they would
 * fit, so a large request is not starved by a stream of small ones. `tryAcquire` never jumps a
 * non-empty queue.
 *
 * **Conservation.** Permits never exceed `capacity` and never go negative: releasing more than
 * was taken throws.
 *
 * **Memory consistency.** Writes made before `release` are visible to a thread whose acquire
 * takes those permits.
 *
 * @example
 * ```ts
 * const slots = new Semaphore(4);
 * slots.acquire(2, { timeoutMs: 500 }); try { work(); } finally { slots.release(2); }
 * ```
 */
import { int32s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { integerIn } from '../shared/validate.js';
import { startWait, type WaitOptions } from '../shared/wait.js';
import { acquireFairAsync, acquireFairSync, tryFair } from './fair.js';
import * as fifo from './raw/fifo.js';

/** Structured-cloneable description of a {@link Semaphore}. */
export type SemaphoreHandle = Handle<'Semaphore'>;

const PERMITS = 0;
const CAPACITY = 1;
const QUEUE = 2;
const WORDS = QUEUE + fifo.QUEUE_WORDS;
const MAX_PERMITS = 2 ** 31 - 1;

/** A FIFO-fair weighted semaphore. See the module documentation. */
export class Semaphore {
  readonly #handle: SemaphoreHandle;
  readonly #view: Int32Array;

  /** A semaphore holding `permits` permits (also its capacity). */
  constructor(permits: number, options?: Placement) {
    const { handle, fresh } = claimRegion('Semaphore', WORDS * 4, options);
    this.#handle = handle;
    this.#view = int32s(handle, WORDS);
    if (fresh) {
      integerIn('permits', permits, 0, MAX_PERMITS);
      atomics.store(this.#view, PERMITS, permits);
      atomics.store(this.#view, CAPACITY, permits);
    }
  }

  /** Rebuilds, in this thread, the semaphore that `handle` describes. */
  static from(handle: SemaphoreHandle): Semaphore {
    return adopt(handle, () => new Semaphore(0));
  }

  /** The structured-cloneable handle. */
  get handle(): SemaphoreHandle {
    return this.#handle;
  }

  /** Permits free right now (a snapshot). */
  get available(): number {
    return atomics.load(this.#view, PERMITS);
  }

  /** The most permits there can be. */
  get capacity(): number {
    return atomics.load(this.#view, CAPACITY);
  }

  /** Takes `n` permits if they are free and nobody queues ahead. */
  tryAcquire(n = 1): boolean {
    this.#check(n);
    return tryFair(this.#view, QUEUE, this.#take(n));
  }

  /** Takes `n` permits, blocking in FIFO order. Workers only. */
  acquire(n = 1, options?: WaitOptions): void {
    this.#check(n);
    acquireFairSync(this.#view, QUEUE, startWait('Semaphore.acquire', options), this.#take(n));
  }

  /** Takes `n` permits without blocking the event loop. */
  async acquireAsync(n = 1, options?: WaitOptions): Promise<void> {
    this.#check(n);
    await acquireFairAsync(this.#view, QUEUE, startWait('Semaphore.acquireAsync', options), this.#take(n));
  }

  /**
   * Returns `n` permits and wakes the queue.
   * @throws InvalidStateError when that would exceed the capacity (a release without an acquire).
   */
  release(n = 1): void {
    this.#check(n);
    const view = this.#view;
    for (;;) {
      const p = atomics.load(view, PERMITS);
      if (p + n > atomics.load(view, CAPACITY)) {
        throw new InvalidStateError(
          `Semaphore.release(${n}) would raise permits to ${p + n}, above the capacity ${this.capacity}: release only what you acquired`,
        );
      }
      if (atomics.compareExchange(view, PERMITS, p, p + n) === p) break;
    }
    fifo.wakeQueue(view, QUEUE);
  }

  #check(n: number): void {
    integerIn('n', n, 1, Math.max(1, this.capacity));
  }

  #take(n: number): () => boolean {
    const view = this.#view;
    return () => {
      for (;;) {
        const p = atomics.load(view, PERMITS);
        if (p < n) return false;
        if (atomics.compareExchange(view, PERMITS, p, p - n) === p) return true;
      }
    };
  }
}
