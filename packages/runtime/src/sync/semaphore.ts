/**
 * Semaphore: a weighted counting semaphore in shared memory, robust against dying threads.
 *
 * Layout: a one-resource pool ledger (`raw/pool.ts`, wrapped by `raw/semaphore.ts`): the
 * permits, a FIFO ticket queue, and a holder table of `maxHolders` rows (thread token and
 * permits held), all changed inside a robust section.
 *
 * **Fairness.** FIFO: once a request waits, later requests queue behind it even if they would
 * fit, so a large request is not starved by a stream of small ones. `tryAcquire` never jumps a
 * non-empty queue.
 *
 * **Conservation.** Permits never exceed `capacity` and never go negative: releasing more than
 * is held throws.
 *
 * **Thread death.** When a thread dies (reported by `watchWorker`), its queued requests leave
 * the queue and the permits it held come back; the next acquirer's permit says `ownerDied`.
 * Permits released by another thread than the one that took them come off the holder table
 * from the releaser's own row first, then from the other rows in table order.
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
import { InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { integerIn, optionsObject } from '../shared/validate.js';
import { startWait, type WaitOptions } from '../shared/wait.js';
import { Guard } from './guard.js';
import { DEFAULT_MAX_HOLDERS, headerLayout, Ledger, MAX_HOLDERS } from './ledger.js';
import * as raw from './raw/semaphore.js';

/** Structured-cloneable description of a {@link Semaphore}. */
export type SemaphoreHandle = Handle<'Semaphore'>;

/** Where a semaphore lives and how many threads may hold its permits at once. */
export interface SemaphoreOptions extends Placement {
  /** Threads that may hold permits at once (rows of the holder table). Default 64, at most 4096. */
  readonly maxHolders?: number;
}

const MAX_PERMITS = 2 ** 31 - 1;

/** A FIFO-fair weighted semaphore. See the module documentation. */
export class Semaphore {
  readonly #handle: SemaphoreHandle;
  readonly #ledger: Ledger;
  /** The amounts vector of synchronous calls, reused (they finish before anything else runs). */
  readonly #one = [0];

  /** A semaphore holding `permits` permits (also its capacity). */
  constructor(permits: number, options?: SemaphoreOptions) {
    const o = optionsObject('options', options);
    const holders = o.maxHolders === undefined ? DEFAULT_MAX_HOLDERS : integerIn('options.maxHolders', o.maxHolders, 1, MAX_HOLDERS);
    const shape = raw.layoutOf(holders);
    const { handle, fresh } = claimRegion('Semaphore', shape.words * 4, options);
    const layout = fresh ? shape : headerLayout(handle.buffer, handle.byteOffset);
    const view = int32s(handle, layout.words);
    if (fresh) raw.init(view, layout, integerIn('permits', permits, 0, MAX_PERMITS));
    this.#handle = handle;
    this.#ledger = new Ledger(view, layout, handle.buffer, handle.byteOffset, 'Semaphore');
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
    return raw.available(this.#ledger.view, this.#ledger.layout);
  }

  /** The most permits there can be. */
  get capacity(): number {
    return raw.capacity(this.#ledger.view, this.#ledger.layout);
  }

  /** Takes `n` permits if they are free and nobody queues ahead; give them back with `release(n)`. */
  tryAcquire(n = 1): boolean {
    return this.tryAcquirePermit(n) !== null;
  }

  /** Takes `n` permits as a {@link SemaphorePermit} if they are free and nobody queues ahead. */
  tryAcquirePermit(n = 1): SemaphorePermit | null {
    this.#check(n);
    this.#one[0] = n;
    const r = this.#ledger.tryTake(this.#one);
    return r < 0 ? null : new SemaphorePermit(this, n, raw.takenOwnerDied(r));
  }

  /**
   * Takes `n` permits, blocking in FIFO order. Workers only. Returns them as a
   * {@link SemaphorePermit} (`using`), or give them back with `release(n)`.
   * @throws TimeoutError | AbortedError when the wait gives up; CapacityError when every
   * holder row is taken by other threads.
   */
  acquire(n = 1, options?: WaitOptions): SemaphorePermit {
    this.#check(n);
    const died = this.#ledger.takeSync([n], startWait('Semaphore.acquire', options));
    return new SemaphorePermit(this, n, died);
  }

  /** Takes `n` permits without blocking the event loop; see {@link Semaphore.acquire}. */
  async acquireAsync(n = 1, options?: WaitOptions): Promise<SemaphorePermit> {
    this.#check(n);
    const died = await this.#ledger.takeAsync([n], startWait('Semaphore.acquireAsync', options));
    return new SemaphorePermit(this, n, died);
  }

  /**
   * Returns `n` permits and wakes the queue.
   * @throws InvalidStateError when more would be released than is held (a release without an acquire).
   */
  release(n = 1): void {
    this.#check(n);
    this.#one[0] = n;
    if (this.#ledger.give(this.#one) >= 0) {
      throw new InvalidStateError(
        `Semaphore.release(${n}) with only ${this.capacity - this.available} permits held: release only what you acquired`,
      );
    }
  }

  #check(n: number): void {
    integerIn('n', n, 1, Math.max(1, this.capacity));
  }
}

/** Permits taken from a {@link Semaphore}; give them back with `release()` or `using`. */
export class SemaphorePermit extends Guard {
  /** How many permits this holds. */
  readonly permits: number;
  /** True when a holder died holding permits since the last acquire: check what they guard. */
  readonly ownerDied: boolean;
  readonly #semaphore: Semaphore;

  /** @internal */
  constructor(semaphore: Semaphore, permits: number, ownerDied: boolean) {
    super();
    this.#semaphore = semaphore;
    this.permits = permits;
    this.ownerDied = ownerDied;
  }

  /**
   * Gives the permits back.
   * @throws InvalidStateError when this permit was already released.
   */
  release(): void {
    this.claimRelease();
    this.#semaphore.release(this.permits);
  }

  protected releaseHeld(): void {
    this.release();
  }

  protected describe(): string {
    return `this SemaphorePermit (${this.permits})`;
  }
}
