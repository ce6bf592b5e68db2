/**
 * Counter: a 64-bit atomic integer in shared memory (one BigInt64 word).
 *
 * **Memory consistency.** Every operation is sequentially consistent.
 */
import { int64s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { int64 } from '../shared/validate.js';

/** Structured-cloneable description of a {@link Counter}. */
export type CounterHandle = Handle<'Counter'>;

const VALUE = 0;

/** A 64-bit atomic counter. */
export class Counter {
  readonly #handle: CounterHandle;
  readonly #view: BigInt64Array;

  /** A counter starting at `initial` (default 0). */
  constructor(initial: bigint | number = 0n, options?: Placement) {
    const { handle, fresh } = claimRegion('Counter', 8, options);
    this.#handle = handle;
    this.#view = int64s(handle, 1);
    if (fresh) atomics.store(this.#view, VALUE, int64('initial', initial));
  }

  /** Rebuilds, in this thread, the counter that `handle` describes. */
  static from(handle: CounterHandle): Counter {
    return adopt(handle, () => new Counter());
  }

  /** The structured-cloneable handle. */
  get handle(): CounterHandle {
    return this.#handle;
  }

  /** The current value. */
  get(): bigint {
    return atomics.load(this.#view, VALUE);
  }

  /** Sets the value. */
  set(value: bigint | number): void {
    atomics.store(this.#view, VALUE, int64('value', value));
  }

  /** Adds `delta` (may be negative) and returns the new value. */
  add(delta: bigint | number = 1n): bigint {
    const d = int64('delta', delta);
    return atomics.add(this.#view, VALUE, d) + d;
  }

  /** Sets the value to `next` only if it is `expected`; returns whether it did. */
  compareAndSet(expected: bigint | number, next: bigint | number): boolean {
    const e = int64('expected', expected);
    return atomics.compareExchange(this.#view, VALUE, e, int64('next', next)) === e;
  }
}
