/**
 * ResourcePool: a multi-dimensional counting semaphore in shared memory ("2 cpu_cores and
 * 4096 memory_mb, all or nothing").
 *
 * Layout (Int32 words): the counters of `raw/pool.ts` (`AVAILABLE[d]`, then `CAPACITY[d]`,
 * per dimension), then a FIFO ticket queue (`raw/fifo.ts`). Dimension names travel in the handle.
 *
 * **All or nothing.** A take claims each dimension with a compare-exchange and, if a later
 * dimension falls short, gives the earlier ones back and wakes the queue, so no one parks on a
 * shortage that only existed during the rollback. Totals are conserved exactly.
 *
 * **Fairness.** FIFO, as for the Semaphore: a large request is not starved by small ones.
 */
import { int32s, type Placement } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { InvalidArgumentError, InvalidStateError, ResourceError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { integerIn } from '../shared/validate.js';
import { startWait, type WaitOptions } from '../shared/wait.js';
import { acquireFairAsync, acquireFairSync, tryFair } from './fair.js';
import * as fifo from './raw/fifo.js';
import * as raw from './raw/pool.js';

/** Amounts per resource name, e.g. `{ cpu_cores: 2, memory_mb: 4096 }`. */
export type ResourceAmounts = Readonly<Record<string, number>>;

/** Structured-cloneable description of a {@link ResourcePool}. */
export interface ResourcePoolHandle extends Handle<'ResourcePool'> {
  /** Dimension names, in word order. */
  readonly names: readonly string[];
}

const MAX_AMOUNT = 2 ** 31 - 1;

/** A FIFO-fair, all-or-nothing pool of several kinds of resource. */
export class ResourcePool {
  readonly #handle: ResourcePoolHandle;
  readonly #view: Int32Array;
  readonly #names: readonly string[];
  readonly #queue: number;

  /** A pool whose capacity (and initial availability) is `capacity`. */
  constructor(capacity: ResourceAmounts, options?: Placement) {
    const names = Object.keys(capacity ?? {});
    const words = names.length * 2 + fifo.QUEUE_WORDS;
    const claim = claimRegion('ResourcePool', words * 4, options);
    const adopted = !claim.fresh ? (claim.handle as ResourcePoolHandle) : undefined;
    this.#names = adopted?.names ?? names;
    this.#handle = adopted ?? { ...claim.handle, names };
    this.#queue = this.#names.length * 2;
    this.#view = int32s(this.#handle, this.#names.length * 2 + fifo.QUEUE_WORDS);
    if (claim.fresh) {
      if (names.length === 0) throw new InvalidArgumentError('capacity must name at least one resource, e.g. { cpu_cores: 4 }');
      names.forEach((name, d) => {
        const total = integerIn(`capacity.${name}`, capacity[name], 0, MAX_AMOUNT);
        atomics.store(this.#view, d, total);
        atomics.store(this.#view, names.length + d, total);
      });
    }
  }

  /** Rebuilds, in this thread, the pool that `handle` describes. */
  static from(handle: ResourcePoolHandle): ResourcePool {
    return adopt(handle, () => new ResourcePool({}));
  }

  /** The structured-cloneable handle. */
  get handle(): ResourcePoolHandle {
    return this.#handle;
  }

  /** Resource names, in the order the pool was created with. */
  get names(): readonly string[] {
    return this.#names;
  }

  /** Total of each resource. */
  get capacity(): Record<string, number> {
    return this.#read(this.#names.length);
  }

  /** What is free now (a snapshot, not taken atomically across dimensions). */
  available(): Record<string, number> {
    return this.#read(0);
  }

  /**
   * The amounts vector of `request`, checked: known names, integers, within capacity.
   * @throws ResourceError for an unknown name or more than the pool can ever hold.
   */
  amountsOf(request: ResourceAmounts): number[] {
    if (typeof request !== 'object' || request === null) {
      throw new InvalidArgumentError('request must be an object of resource amounts, e.g. { cpu_cores: 2 }');
    }
    const amounts = new Array<number>(this.#names.length).fill(0);
    for (const [name, value] of Object.entries(request)) {
      const d = this.#names.indexOf(name);
      if (d < 0) throw new ResourceError(`unknown resource "${name}"; this pool has ${this.#names.join(', ')}`);
      const cap = atomics.load(this.#view, this.#names.length + d);
      integerIn(`request.${name}`, value, 0, MAX_AMOUNT);
      if (value > cap) {
        throw new ResourceError(`request.${name} = ${value} exceeds the pool's total ${name} (${cap}); it can never be granted`);
      }
      amounts[d] = value;
    }
    return amounts;
  }

  /** Takes `request` if all of it is free and nobody queues ahead. */
  tryAcquire(request: ResourceAmounts): boolean {
    return tryFair(this.#view, this.#queue, this.#take(this.amountsOf(request)));
  }

  /** Takes `request` as a whole, blocking in FIFO order. Workers only. */
  acquire(request: ResourceAmounts, options?: WaitOptions): void {
    const take = this.#take(this.amountsOf(request));
    acquireFairSync(this.#view, this.#queue, startWait('ResourcePool.acquire', options), take);
  }

  /** Takes `request` as a whole without blocking the event loop. */
  async acquireAsync(request: ResourceAmounts, options?: WaitOptions): Promise<void> {
    const take = this.#take(this.amountsOf(request));
    await acquireFairAsync(this.#view, this.#queue, startWait('ResourcePool.acquireAsync', options), take);
  }

  /**
   * Gives `amounts` back and wakes the queue.
   * @throws InvalidStateError when a dimension would exceed its capacity (release of what was not taken).
   */
  release(request: ResourceAmounts): void {
    const over = raw.give(this.#view, this.amountsOf(request));
    if (over >= 0) {
      throw new InvalidStateError(`ResourcePool.release: ${this.#names[over]} would exceed its capacity; release only what you acquired`);
    }
    fifo.wakeQueue(this.#view, this.#queue);
  }

  #read(offset: number): Record<string, number> {
    const out: Record<string, number> = {};
    this.#names.forEach((name, d) => {
      out[name] = atomics.load(this.#view, offset + d);
    });
    return out;
  }

  #take(amounts: readonly number[]): () => boolean {
    const view = this.#view;
    return () => {
      const taken = raw.take(view, amounts);
      if (taken === true) return true;
      // Gave earlier dimensions back: wake whoever parked on the short-lived shortage.
      if (taken > 0) fifo.wakeAll(view, this.#queue);
      return false;
    };
  }
}
