/**
 * Latch: a one-shot countdown in shared memory (Java's CountDownLatch, Go's WaitGroup.Wait).
 *
 * Layout: one Int32 word, the remaining count; waiters park on it until it reads 0.
 *
 * **Memory consistency.** Writes made before a `countDown()` are visible to every thread whose
 * `wait()` returns.
 */
import { int32s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { integerIn } from '../shared/validate.js';
import { Park, startWait, untilAsync, untilSync, type WaitOptions } from '../shared/wait.js';

/** Structured-cloneable description of a {@link Latch}. */
export type LatchHandle = Handle<'Latch'>;

const COUNT = 0;

/** A countdown latch. See the module documentation. */
export class Latch {
  readonly #handle: LatchHandle;
  readonly #view: Int32Array;

  /** A latch that opens after `count` count-downs (0: already open). */
  constructor(count: number, options?: Placement) {
    const { handle, fresh } = claimRegion('Latch', 4, options);
    this.#handle = handle;
    this.#view = int32s(handle, 1);
    if (fresh) atomics.store(this.#view, COUNT, integerIn('count', count, 0, 2 ** 31 - 1));
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
    return atomics.load(this.#view, COUNT);
  }

  /**
   * Counts down by `n`; at zero every waiter wakes.
   * @throws InvalidStateError when that would go below zero.
   */
  countDown(n = 1): void {
    integerIn('n', n, 1, 2 ** 31 - 1);
    const view = this.#view;
    for (;;) {
      const c = atomics.load(view, COUNT);
      if (n > c) throw new InvalidStateError(`Latch.countDown(${n}) with only ${c} left: count down once per party`);
      if (atomics.compareExchange(view, COUNT, c, c - n) !== c) continue;
      if (c === n) atomics.notify(view, COUNT);
      return;
    }
  }

  /** Blocks until the count reaches zero. Workers only. */
  wait(options?: WaitOptions): void {
    untilSync(startWait('Latch.wait', options), this.#attempt());
  }

  /** Waits for zero without blocking the event loop. */
  async waitAsync(options?: WaitOptions): Promise<void> {
    await untilAsync(startWait('Latch.waitAsync', options), this.#attempt());
  }

  #attempt(): () => true | Park {
    const view = this.#view;
    return () => {
      const c = atomics.load(view, COUNT);
      return c === 0 || new Park(view, COUNT, c);
    };
  }
}
