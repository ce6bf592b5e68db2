/**
 * Latch: a one-shot countdown in shared memory (Java's CountDownLatch, Go's WaitGroup.Wait).
 *
 * Layout: one Int32 word, the remaining count (`raw/latch.ts`); waiters park on it until it reads 0.
 *
 * **Memory consistency.** Writes made before a `countDown()` are visible to every thread whose
 * `wait()` returns.
 */
import { int32s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { integerIn } from '../shared/validate.js';
import { startWait, untilAsync, untilSync, type WaitOptions } from '../shared/wait.js';
import * as raw from './raw/latch.js';

/** Structured-cloneable description of a {@link Latch}. */
export type LatchHandle = Handle<'Latch'>;

/** A countdown latch. See the module documentation. */
export class Latch {
  readonly #handle: LatchHandle;
  readonly #view: Int32Array;

  /** A latch that opens after `count` count-downs (0: already open). */
  constructor(count: number, options?: Placement) {
    const { handle, fresh } = claimRegion('Latch', raw.WORDS * 4, options);
    this.#handle = handle;
    this.#view = int32s(handle, raw.WORDS);
    if (fresh) atomics.store(this.#view, raw.COUNT, integerIn('count', count, 0, 2 ** 31 - 1));
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
    return atomics.load(this.#view, raw.COUNT);
  }

  /**
   * Counts down by `n`; at zero every waiter wakes.
   * @throws InvalidStateError when that would go below zero.
   */
  countDown(n = 1): void {
    integerIn('n', n, 1, 2 ** 31 - 1);
    const short = raw.countDown(this.#view, n);
    if (short !== undefined) throw new InvalidStateError(`Latch.countDown(${n}) with only ${short} left: count down once per party`);
  }

  /** Blocks until the count reaches zero. Workers only. */
  wait(options?: WaitOptions): void {
    untilSync(startWait('Latch.wait', options), this.#attempt());
  }

  /** Waits for zero without blocking the event loop. */
  async waitAsync(options?: WaitOptions): Promise<void> {
    await untilAsync(startWait('Latch.waitAsync', options), this.#attempt());
  }

  #attempt(): () => ReturnType<typeof raw.waitStep> {
    const view = this.#view;
    return () => raw.waitStep(view);
  }
}
