/**
 * Semaphore: a weighted counting semaphore in shared memory.
 *
 * Layout (Int32 words): the counters of `raw/semaphore.ts` (`PERMITS`, `CAPACITY`), then a
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
 * { using permit = slots.acquire(2, { timeoutMs: 500 }); work(); }   // released at the block's end
 * slots.acquire(1); try { work(); } finally { slots.release(1); }     // or by hand
 * ```
 */
import { int32s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { integerIn } from '../shared/validate.js';
import { startWait, type WaitOptions } from '../shared/wait.js';
import { acquireFairAsync, acquireFairSync, tryFair } from './fair.js';
import { Guard } from './guard.js';
import * as fifo from './raw/fifo.js';
import * as raw from './raw/semaphore.js';

/** Structured-cloneable description of a {@link Semaphore}. */
export type SemaphoreHandle = Handle<'Semaphore'>;

const QUEUE = raw.WORDS;
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
      atomics.store(this.#view, raw.PERMITS, permits);
      atomics.store(this.#view, raw.CAPACITY, permits);
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
    return atomics.load(this.#view, raw.PERMITS);
  }

  /** The most permits there can be. */
  get capacity(): number {
    return atomics.load(this.#view, raw.CAPACITY);
  }

  /** Takes `n` permits if they are free and nobody queues ahead; give them back with `release(n)`. */
  tryAcquire(n = 1): boolean {
    this.#check(n);
    return tryFair(this.#view, QUEUE, this.#take(n));
  }

  /** Takes `n` permits as a {@link SemaphorePermit} if they are free and nobody queues ahead. */
  tryAcquirePermit(n = 1): SemaphorePermit | null {
    return this.tryAcquire(n) ? new SemaphorePermit(this, n) : null;
  }

  /**
   * Takes `n` permits, blocking in FIFO order. Workers only. Returns them as a
   * {@link SemaphorePermit} (`using`), or give them back with `release(n)`.
   */
  acquire(n = 1, options?: WaitOptions): SemaphorePermit {
    this.#check(n);
    acquireFairSync(this.#view, QUEUE, startWait('Semaphore.acquire', options), this.#take(n));
    return new SemaphorePermit(this, n);
  }

  /** Takes `n` permits without blocking the event loop; see {@link Semaphore.acquire}. */
  async acquireAsync(n = 1, options?: WaitOptions): Promise<SemaphorePermit> {
    this.#check(n);
    await acquireFairAsync(this.#view, QUEUE, startWait('Semaphore.acquireAsync', options), this.#take(n));
    return new SemaphorePermit(this, n);
  }

  /**
   * Returns `n` permits and wakes the queue.
   * @throws InvalidStateError when that would exceed the capacity (a release without an acquire).
   */
  release(n = 1): void {
    this.#check(n);
    const over = raw.give(this.#view, n);
    if (over !== undefined) {
      throw new InvalidStateError(
        `Semaphore.release(${n}) would raise permits to ${over}, above the capacity ${this.capacity}: release only what you acquired`,
      );
    }
    fifo.wakeQueue(this.#view, QUEUE);
  }

  #check(n: number): void {
    integerIn('n', n, 1, Math.max(1, this.capacity));
  }

  #take(n: number): () => boolean {
    const view = this.#view;
    return () => raw.take(view, n);
  }
}

/** Permits taken from a {@link Semaphore}; give them back with `release()` or `using`. */
export class SemaphorePermit extends Guard {
  /** How many permits this holds. */
  readonly permits: number;
  readonly #semaphore: Semaphore;

  /** @internal */
  constructor(semaphore: Semaphore, permits: number) {
    super();
    this.#semaphore = semaphore;
    this.permits = permits;
  }

  /**
   * Gives the permits back.
   * @throws InvalidStateError when this permit was already released.
   */
  release(): void {
    this.releaseOnce();
  }

  protected doRelease(): void {
    this.#semaphore.release(this.permits);
  }

  protected describe(): string {
    return `this SemaphorePermit (${this.permits})`;
  }
}
