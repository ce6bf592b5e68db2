/**
 * Barrier: a cyclic barrier for a fixed number of parties, in shared memory.
 *
 * Layout: two BigInt64 words, the packed state and the party count (`raw/barrier.ts`).
 *
 * **Breakage** is all-or-none, as in Java's CyclicBarrier: when a waiter times out or is
 * aborted, or `break()` is called, every party waiting in that generation gets
 * `BrokenBarrierError`, and later waits fail at once until `reset()`.
 *
 * **Memory consistency.** Every write a party made before `wait()` is visible to every party
 * after its `wait()` returns.
 *
 * @example
 * ```ts
 * const b = new Barrier(3);              // pass b.handle to each of 3 workers
 * const last = b.wait({ timeoutMs: 5000 }); // in each worker
 * ```
 */
import { int64s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { integerIn } from '../shared/validate.js';
import { HANDOFF_SPINS, startWait, untilAsync, untilSync, type WaitContext, type WaitOptions } from '../shared/wait.js';
import * as raw from './raw/barrier.js';

/** Structured-cloneable description of a {@link Barrier}. */
export type BarrierHandle = Handle<'Barrier'>;

/** A cyclic barrier with all-or-none breakage. See the module documentation. */
export class Barrier {
  readonly #handle: BarrierHandle;
  readonly #view: BigInt64Array;

  /** A barrier that trips when `parties` parties have arrived. */
  constructor(parties: number, options?: Placement) {
    const { handle, fresh } = claimRegion('Barrier', raw.WORDS * 8, options);
    this.#handle = handle;
    this.#view = int64s(handle, raw.WORDS);
    if (fresh) {
      integerIn('parties', parties, 1, raw.MAX_PARTIES);
      atomics.store(this.#view, raw.PARTIES, BigInt(parties));
    }
  }

  /** Rebuilds, in this thread, the barrier that `handle` describes. */
  static from(handle: BarrierHandle): Barrier {
    return adopt(handle, () => new Barrier(1));
  }

  /** The structured-cloneable handle. */
  get handle(): BarrierHandle {
    return this.#handle;
  }

  /** Parties needed to trip. */
  get parties(): number {
    return Number(atomics.load(this.#view, raw.PARTIES));
  }

  /** Parties waiting in the current generation (a snapshot). */
  get waiting(): number {
    return raw.countOf(atomics.load(this.#view, raw.STATE));
  }

  /** Times the barrier has tripped (or been reset): increases by one each round. */
  get generation(): bigint {
    return raw.generationOf(atomics.load(this.#view, raw.STATE));
  }

  /** Whether the current generation is broken. */
  get isBroken(): boolean {
    return (atomics.load(this.#view, raw.STATE) & raw.BROKEN) !== 0n;
  }

  /**
   * Arrives and blocks until all parties have arrived. Workers only.
   * @returns true for the party whose arrival tripped the barrier.
   * @throws BrokenBarrierError | TimeoutError | AbortedError
   */
  wait(options?: WaitOptions): boolean {
    const ctx = startWait('Barrier.wait', options);
    const view = this.#view;
    const arrival = untilSync(ctx, () => raw.arriveStep(view));
    if (!arrival.last) untilSync(ctx, () => raw.awaitStep(view, arrival.generation), giveUp(view, arrival.generation), HANDOFF_SPINS);
    return arrival.last;
  }

  /** Arrives and waits without blocking the event loop. */
  async waitAsync(options?: WaitOptions): Promise<boolean> {
    const ctx: WaitContext = startWait('Barrier.waitAsync', options);
    const view = this.#view;
    const arrival = await untilAsync(ctx, () => raw.arriveStep(view));
    if (!arrival.last) await untilAsync(ctx, () => raw.awaitStep(view, arrival.generation), giveUp(view, arrival.generation));
    return arrival.last;
  }

  /** Breaks the current generation: its waiters and later arrivals get BrokenBarrierError. */
  break(): void {
    raw.breakBarrier(this.#view, false);
  }

  /**
   * Removes one party for good: later rounds trip with one party fewer, and a round whose
   * waiters now suffice trips at once. Deregistering the last party breaks the barrier.
   */
  deregister(): void {
    raw.deregister(this.#view);
  }

  /**
   * Breaks the current generation (its waiters get BrokenBarrierError) and, once they have
   * left, starts a fresh one that later arrivals join.
   */
  reset(): void {
    raw.breakBarrier(this.#view, true);
  }
}

function giveUp(view: BigInt64Array, generation: bigint): () => true | undefined {
  return () => (raw.giveUp(view, generation) ? true : undefined);
}
