/**
 * ResourcePool: a multi-dimensional counting semaphore in shared memory ("2 cpu_cores and
 * 4096 memory_mb, all or nothing").
 *
 * Layout: a pool ledger (`raw/pool.ts`): available and total amounts per resource, a FIFO
 * ticket queue and a holder table of `maxHolders` rows, all changed inside a robust section.
 * Resource names travel in the handle.
 *
 * **All or nothing.** A take checks and claims every resource inside one section, so nobody
 * ever sees part of a request taken. Totals are conserved exactly.
 *
 * **Fairness.** FIFO, as for the Semaphore: a large request is not starved by small ones.
 *
 * **Thread death.** A dead thread's queued requests leave the queue and what it held comes
 * back; the next acquirer's lease says `ownerDied`.
 */
import { int32s, type Placement } from '../shared/arena.js';
import { InvalidArgumentError, InvalidStateError, ResourceError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { currentToken } from '../shared/thread.js';
import { integerIn, optionsObject } from '../shared/validate.js';
import { startWait, type WaitOptions } from '../shared/wait.js';
import { Guard } from './guard.js';
import { DEFAULT_MAX_HOLDERS, headerLayout, Ledger, MAX_HOLDERS } from './ledger.js';
import * as raw from './raw/pool.js';

/** Amounts per resource name, e.g. `{ cpu_cores: 2, memory_mb: 4096 }`. */
export type ResourceAmounts = Readonly<Record<string, number>>;

/** Structured-cloneable description of a {@link ResourcePool}. */
export interface ResourcePoolHandle extends Handle<'ResourcePool'> {
  /** Dimension names, in word order. */
  readonly names: readonly string[];
}

/** Where a pool lives and how many threads may hold from it at once. */
export interface ResourcePoolOptions extends Placement {
  /** Threads that may hold resources at once (rows of the holder table). Default 64, at most 4096. */
  readonly maxHolders?: number;
}

const MAX_AMOUNT = 2 ** 31 - 1;

/** A FIFO-fair, all-or-nothing pool of several kinds of resource. */
export class ResourcePool {
  readonly #handle: ResourcePoolHandle;
  readonly #ledger: Ledger;
  readonly #names: readonly string[];

  /** A pool whose capacity (and initial availability) is `capacity`. */
  constructor(capacity: ResourceAmounts, options?: ResourcePoolOptions) {
    const o = optionsObject('options', options);
    const holders = o.maxHolders === undefined ? DEFAULT_MAX_HOLDERS : integerIn('options.maxHolders', o.maxHolders, 1, MAX_HOLDERS);
    const names = Object.keys(capacity ?? {});
    const shape = raw.layoutOf(names.length, holders);
    const claim = claimRegion('ResourcePool', shape.words * 4, options);
    const adopted = !claim.fresh ? (claim.handle as ResourcePoolHandle) : undefined;
    this.#names = adopted?.names ?? names;
    this.#handle = adopted ?? { ...claim.handle, names };
    const layout = claim.fresh ? shape : headerLayout(claim.handle.buffer, claim.handle.byteOffset);
    const view = int32s(this.#handle, layout.words);
    if (claim.fresh) {
      if (names.length === 0) throw new InvalidArgumentError('capacity must name at least one resource, e.g. { cpu_cores: 4 }');
      raw.init(view, 0, layout, names.map((name) => integerIn(`capacity.${name}`, capacity[name], 0, MAX_AMOUNT)));
    }
    this.#ledger = new Ledger(view, layout, this.#handle.buffer, this.#handle.byteOffset, 'ResourcePool');
  }

  /** Bytes a pool of `resources` resources and `maxHolders` holder rows takes (to size an arena). */
  static byteLength(resources: number, maxHolders = DEFAULT_MAX_HOLDERS): number {
    return raw.layoutOf(resources, maxHolders).words * 4;
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
    return this.#read(raw.capacity);
  }

  /** What is free now (a snapshot, not taken atomically across dimensions). */
  available(): Record<string, number> {
    return this.#read(raw.available);
  }

  /**
   * The amounts vector of `request`, checked: known names, integers, within capacity.
   * @throws ResourceError for an unknown name or more than the pool can ever hold.
   */
  amountsOf(request: ResourceAmounts): number[] {
    if (typeof request !== 'object' || request === null) {
      throw new InvalidArgumentError('request must be an object of resource amounts, e.g. { cpu_cores: 2 }');
    }
    const { view, layout } = this.#ledger;
    const amounts = new Array<number>(this.#names.length).fill(0);
    for (const [name, value] of Object.entries(request)) {
      const d = this.#names.indexOf(name);
      if (d < 0) throw new ResourceError(`unknown resource "${name}"; this pool has ${this.#names.join(', ')}`);
      const cap = raw.capacity(view, 0, layout, d);
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
    return this.tryAcquireLease(request) !== null;
  }

  /** Takes `request` as a {@link ResourceLease} if all of it is free and nobody queues ahead. */
  tryAcquireLease(request: ResourceAmounts): ResourceLease | null {
    const amounts = this.amountsOf(request);
    const r = this.#ledger.tryTake(amounts);
    return r < 0 ? null : new ResourceLease(this, request, raw.takenOwnerDied(r));
  }

  /**
   * Takes `request` as a whole, blocking in FIFO order. Workers only. Returns it as a
   * {@link ResourceLease} (`using`), or give it back with `release(request)`.
   */
  acquire(request: ResourceAmounts, options?: WaitOptions): ResourceLease {
    const died = this.#ledger.takeSync(this.amountsOf(request), startWait('ResourcePool.acquire', options));
    return new ResourceLease(this, request, died);
  }

  /** Takes `request` as a whole without blocking the event loop; see {@link ResourcePool.acquire}. */
  async acquireAsync(request: ResourceAmounts, options?: WaitOptions): Promise<ResourceLease> {
    const died = await this.#ledger.takeAsync(this.amountsOf(request), startWait('ResourcePool.acquireAsync', options));
    return new ResourceLease(this, request, died);
  }

  /**
   * Gives `request` back and wakes the queue.
   * @throws InvalidStateError when more of a resource would be released than is held.
   */
  release(request: ResourceAmounts): void {
    this.releaseFor(currentToken, request);
  }

  /**
   * @internal Gives back what the thread with owner token `holder` took (a protocol releasing
   * a stream's grants from another thread than the one that asked for them).
   */
  releaseFor(holder: number, request: ResourceAmounts): void {
    const over = this.#ledger.give(this.amountsOf(request), holder);
    if (over >= 0) {
      throw new InvalidStateError(`ResourcePool.release: more ${this.#names[over]} than is held; release only what you acquired`);
    }
  }

  #read(counter: (view: Int32Array, base: number, layout: raw.PoolLayout, d: number) => number): Record<string, number> {
    const { view, layout } = this.#ledger;
    const out: Record<string, number> = {};
    this.#names.forEach((name, d) => {
      out[name] = counter(view, 0, layout, d);
    });
    return out;
  }
}

/** Resources taken from a {@link ResourcePool}; give them back with `release()` or `using`. */
export class ResourceLease extends Guard {
  /** What this lease holds. */
  readonly amounts: ResourceAmounts;
  /** True when a holder died holding resources since the last acquire: check what they guard. */
  readonly ownerDied: boolean;
  readonly #pool: ResourcePool;

  /** @internal */
  constructor(pool: ResourcePool, amounts: ResourceAmounts, ownerDied: boolean) {
    super();
    this.#pool = pool;
    this.amounts = amounts;
    this.ownerDied = ownerDied;
  }

  /**
   * Gives the resources back.
   * @throws InvalidStateError when this lease was already released.
   */
  release(): void {
    this.claimRelease();
    this.#pool.release(this.amounts);
  }

  protected releaseHeld(): void {
    this.release();
  }

  protected describe(): string {
    return 'this ResourceLease';
  }
}
