/**
 * Latch: a one-shot countdown in shared memory (Java's CountDownLatch, Go's WaitGroup.Wait).
 *
 * Layout: the count word and a table of registered counters (`raw/latch.ts`); waiters park on
 * the count until it reads 0.
 *
 * **Thread death.** A thread that calls `register(n)` promises `n` count-downs. If it dies
 * owing some (reported by `watchWorker`), the latch can never open by them: it becomes
 * broken, and every waiter gets `BrokenBarrierError` at once instead of waiting out its
 * timeout. Count-downs from unregistered threads work as before, and nobody notices their death.
 *
 * **Memory consistency.** Writes made before a `countDown()` are visible to every thread whose
 * `wait()` returns.
 */
import { int32s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { BrokenBarrierError, CapacityError, InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { currentToken } from '../shared/thread.js';
import { integerIn, optionsObject } from '../shared/validate.js';
import { Park, startWait, untilAsync, untilSync, type WaitOptions } from '../shared/wait.js';
import * as raw from './raw/latch.js';
import { registerRepair } from './robust.js';

/** Structured-cloneable description of a {@link Latch}. */
export type LatchHandle = Handle<'Latch'>;

/** Where a latch lives and how many threads may register as counters. */
export interface LatchOptions extends Placement {
  /** Threads that may be registered counters at once. Default 64, at most 4096. */
  readonly maxCounters?: number;
}

/** A countdown latch. See the module documentation. */
export class Latch {
  readonly #handle: LatchHandle;
  readonly #view: Int32Array;

  /** A latch that opens after `count` count-downs (0: already open). */
  constructor(count: number, options?: LatchOptions) {
    const o = optionsObject('options', options);
    const slots = o.maxCounters === undefined ? 64 : integerIn('options.maxCounters', o.maxCounters, 1, 4096);
    const { handle, fresh } = claimRegion('Latch', raw.wordsFor(slots) * 4, options);
    const rows = fresh ? slots : raw.slotsAt(new Int32Array(handle.buffer, handle.byteOffset, 2));
    this.#handle = handle;
    this.#view = int32s(handle, raw.wordsFor(rows));
    if (fresh) raw.init(this.#view, integerIn('count', count, 0, raw.MAX_COUNT), slots);
    registerRepair(handle.buffer, handle.byteOffset / 4, raw.recoverDead);
  }

  /** Rebuilds, in this thread, the latch that `handle` describes. */
  static from(handle: LatchHandle): Latch {
    return adopt(handle, () => new Latch(0));
  }

  /** The structured-cloneable handle. */
  get handle(): LatchHandle {
    return this.#handle;
  }

  /** Count-downs still needed (a snapshot). */
  get count(): number {
    return atomics.load(this.#view, raw.COUNT) & raw.MAX_COUNT;
  }

  /** Whether a registered counter died owing count-downs: the latch will never open. */
  get broken(): boolean {
    return (atomics.load(this.#view, raw.COUNT) & raw.BROKEN) !== 0;
  }

  /**
   * Registers the calling thread as owing `n` more count-downs (default 1): if it dies before
   * making them, the latch breaks instead of leaving its waiters to time out.
   * @throws CapacityError when `maxCounters` threads are registered already.
   */
  register(n = 1): void {
    integerIn('n', n, 1, raw.MAX_COUNT);
    if (raw.register(this.#view, currentToken, n) < 0) {
      throw new CapacityError(`Latch.register: ${raw.slotsAt(this.#view)} counters are registered already; create it with a larger options.maxCounters`);
    }
  }

  /**
   * Counts down by `n`; at zero every waiter wakes. A registered thread's debt shrinks by `n`.
   * @throws InvalidStateError when that would go below zero.
   */
  countDown(n = 1): void {
    integerIn('n', n, 1, raw.MAX_COUNT);
    const short = raw.countDown(this.#view, n);
    if (short !== undefined) throw new InvalidStateError(`Latch.countDown(${n}) with only ${short} left: count down once per party`);
    raw.pay(this.#view, currentToken, n);
  }

  /**
   * Blocks until the count reaches zero. Workers only.
   * @throws BrokenBarrierError when a registered counter died owing count-downs.
   */
  wait(options?: WaitOptions): void {
    if (!untilSync(startWait('Latch.wait', options), this.#attempt())) throw brokenError();
  }

  /** Waits for zero without blocking the event loop; see {@link Latch.wait}. */
  async waitAsync(options?: WaitOptions): Promise<void> {
    if (!(await untilAsync(startWait('Latch.waitAsync', options), this.#attempt()))) throw brokenError();
  }

  #attempt(): () => boolean | Park {
    const view = this.#view;
    return () => raw.waitStep(view);
  }
}

function brokenError(): BrokenBarrierError {
  return new BrokenBarrierError('the latch is broken: a registered counter thread died owing count-downs; it can never open');
}
