/**
 * ResourceNegotiationProtocol: streams ask a multi-dimensional pool ("2 cpu_cores and 4096
 * memory_mb") for resources, all or nothing. A request that does not fit now is, in order:
 * *negotiated* down to the largest allocation between `min` and the request that fits now
 * (with `min`); *queued* FIFO until it fits or `waitMs` passes (with `waitMs`); otherwise
 * *refused* with a message that says what is short. A request that can never fit (more than the
 * pool's total, or an unknown resource) is refused at once, never queued.
 *
 * The counters live in shared memory (a {@link ResourcePool}), and so does the table of who
 * holds what, so streams negotiate from worker threads through `ctx.resources` and the
 * coordinator can release a dead stream's grants by its id.
 *
 * Holder table layout (Int32 words): a Mutex word, then `maxHolders` rows of
 * `[id byte length, id bytes (64), amount per resource]`; a length of 0 marks a free row.
 */
import { Arena, int32s } from '../shared/arena.js';
import { CapacityError, InvalidArgumentError, InvalidStateError, ResourceError, TimeoutError } from '../shared/errors.js';
import { checkHandle, type Handle } from '../shared/handle.js';
import { integerIn, nonEmptyString, nonNegativeFinite, optionsObject } from '../shared/validate.js';
import { Mutex } from '../sync/mutex.js';
import { ResourcePool, type ResourceAmounts, type ResourcePoolHandle } from '../sync/resource-pool.js';

/** Options of one request. */
export interface RequestOptions {
  /** The least acceptable allocation: enables negotiation down to it. */
  readonly min?: ResourceAmounts;
  /** Queue for up to this long (FIFO) if it does not fit now. */
  readonly waitMs?: number;
}

/** Why a request was refused. */
export type RefusalReason = 'unknown-resource' | 'exceeds-capacity' | 'insufficient' | 'timed-out';

/** The answer to a request. */
export interface ResourceGrant {
  /** Whether anything was granted. */
  readonly granted: boolean;
  /** Whether the grant is less than the request (negotiated down). */
  readonly negotiated: boolean;
  /** Says what was granted, or what is short. */
  readonly message: string;
  /** What the stream now holds from this request (all zeros when refused). */
  readonly allocation: Record<string, number>;
  /** Set when refused. */
  readonly reason?: RefusalReason;
}

/** Structured-cloneable description of a {@link ResourceNegotiationProtocol}. */
export interface ResourceNegotiationHandle extends Handle<'ResourceNegotiation'> {
  readonly pool: ResourcePoolHandle;
  readonly maxHolders: number;
}

const ID_BYTES = 64;
const ID_WORDS = ID_BYTES / 4;
const TABLE = 1; // word 0 is the table lock
const encoder = new TextEncoder();

interface Shared {
  readonly handle: ResourceNegotiationHandle;
  readonly pool: ResourcePool;
  readonly table: Int32Array;
  readonly lock: Mutex;
}

/** Multi-dimensional resource negotiation. See the module documentation. */
export class ResourceNegotiationProtocol {
  #shared: Shared | undefined;
  readonly #maxHolders: number;
  #granted = false;

  /**
   * @param pool the capacity of each resource; may also be set later through `resourcePool`.
   * @param options.maxHolders streams that may hold grants at once. Default 256.
   */
  constructor(pool?: ResourceAmounts, options?: { readonly maxHolders?: number }) {
    const o = optionsObject('options', options);
    this.#maxHolders = o.maxHolders === undefined ? 256 : integerIn('options.maxHolders', o.maxHolders, 1, 1 << 20);
    if (pool !== undefined) this.#shared = create(pool, this.#maxHolders);
  }

  /** Rebuilds, in this thread, the protocol that `handle` describes. */
  static from(handle: ResourceNegotiationHandle): ResourceNegotiationProtocol {
    const h = checkHandle<ResourceNegotiationHandle>(handle, 'ResourceNegotiation');
    const protocol = new ResourceNegotiationProtocol(undefined, { maxHolders: h.maxHolders });
    protocol.#shared = attach(h);
    protocol.#granted = true; // another thread may already have granted: the pool is fixed
    return protocol;
  }

  /** The structured-cloneable handle. */
  get handle(): ResourceNegotiationHandle {
    return this.#need().handle;
  }

  /** What is free now, per resource. */
  get resourcePool(): Record<string, number> {
    return this.#need().pool.available();
  }

  /**
   * Sets the pool's capacity, as the spec does (`negotiator.resourcePool = { cpu_cores: 4 }`).
   * @throws InvalidStateError after the first grant, or once a handle was handed out.
   */
  set resourcePool(capacity: ResourceAmounts) {
    if (this.#granted) throw new InvalidStateError('resourcePool can only be set before the first grant and before the handle is shared');
    this.#shared = create(capacity, this.#maxHolders);
  }

  /** Capacity of each resource. */
  get capacity(): Record<string, number> {
    return this.#need().pool.capacity;
  }

  /** What is free now, per resource. */
  available(): Record<string, number> {
    return this.#need().pool.available();
  }

  /** What `streamId` holds now. */
  async holdings(streamId: string): Promise<Record<string, number>> {
    const shared = this.#need();
    const guard = await shared.lock.lockAsync({ timeoutMs: 10_000 });
    try {
      const row = findRow(shared, idBytes(streamId));
      return amountsRecord(shared, row < 0 ? undefined : rowAmounts(shared, row));
    } finally {
      guard.unlock();
    }
  }

  /** Asks for `request` on behalf of `streamId`. See the module documentation for the order of attempts. */
  async requestResources(streamId: string, request: ResourceAmounts, options?: RequestOptions): Promise<ResourceGrant> {
    const shared = this.#need();
    const id = idBytes(streamId);
    const o = optionsObject('options', options);
    const waitMs = o.waitMs === undefined ? undefined : nonNegativeFinite('options.waitMs', o.waitMs);
    const pool = shared.pool;
    let wanted: number[];
    let least: number[] | undefined;
    try {
      wanted = pool.amountsOf(request);
      least = o.min === undefined ? undefined : pool.amountsOf(o.min);
    } catch (error) {
      if (!(error instanceof ResourceError)) throw error;
      const reason: RefusalReason = error.message.startsWith('unknown') ? 'unknown-resource' : 'exceeds-capacity';
      return refusal(shared, reason, `refused: ${error.message}`);
    }
    if (least?.some((m, d) => m > wanted[d]!)) throw new InvalidArgumentError('options.min must not exceed the request in any resource');
    this.#granted = true;
    if (pool.tryAcquire(recordOf(shared, wanted))) return this.#grant(shared, id, wanted, false, 'granted in full');
    if (least !== undefined) {
      const deal = negotiate(pool, wanted, least);
      if (deal !== undefined) {
        return this.#grant(shared, id, deal, true, `negotiated: granted ${describe(shared, deal)} of the ${describe(shared, wanted)} asked`);
      }
    }
    if (waitMs !== undefined && waitMs > 0) {
      try {
        await pool.acquireAsync(recordOf(shared, wanted), { timeoutMs: waitMs });
        return this.#grant(shared, id, wanted, false, 'granted in full after queueing');
      } catch (error) {
        if (!(error instanceof TimeoutError)) throw error;
        return refusal(shared, 'timed-out', `refused after queueing ${waitMs} ms: ${shortfall(shared, wanted)}`);
      }
    }
    return refusal(shared, 'insufficient', `refused: ${shortfall(shared, wanted)}${least === undefined ? '' : ' (even the minimum does not fit now)'}`);
  }

  /** Returns everything `streamId` holds to the pool; resolves with what was released. Idempotent. */
  async releaseResources(streamId: string): Promise<Record<string, number>> {
    const shared = this.#need();
    const id = idBytes(streamId);
    const guard = await shared.lock.lockAsync({ timeoutMs: 10_000 });
    let amounts: number[] | undefined;
    try {
      const row = findRow(shared, id);
      if (row >= 0) {
        amounts = rowAmounts(shared, row);
        shared.table.fill(0, row, row + rowWords(shared));
      }
    } finally {
      guard.unlock();
    }
    if (amounts !== undefined && amounts.some((a) => a > 0)) shared.pool.release(recordOf(shared, amounts));
    return amountsRecord(shared, amounts);
  }

  async #grant(shared: Shared, id: Uint8Array, amounts: number[], negotiated: boolean, message: string): Promise<ResourceGrant> {
    try {
      await record(shared, id, amounts);
    } catch (error) {
      shared.pool.release(recordOf(shared, amounts));
      throw error;
    }
    return { granted: true, negotiated, message, allocation: amountsRecord(shared, amounts) };
  }

  #need(): Shared {
    if (this.#shared === undefined) {
      throw new InvalidStateError('no resource pool yet: pass one to the constructor or set resourcePool first');
    }
    return this.#shared;
  }
}

function create(capacity: ResourceAmounts, maxHolders: number): Shared {
  if (typeof capacity !== 'object' || capacity === null) throw new InvalidArgumentError('resourcePool must be an object such as { cpu_cores: 4 }');
  const dims = Object.keys(capacity).length;
  const tableBytes = (TABLE + maxHolders * (1 + ID_WORDS + dims)) * 4;
  const arena = new Arena(tableBytes + 64 + (dims * 2 + 80) * 4);
  const pool = new ResourcePool(capacity, { arena });
  const table = arena.allocate(tableBytes);
  return attach({ kind: 'ResourceNegotiation', buffer: table.buffer, byteOffset: table.byteOffset, pool: pool.handle, maxHolders });
}

function attach(handle: ResourceNegotiationHandle): Shared {
  const pool = ResourcePool.from(handle.pool);
  const words = TABLE + handle.maxHolders * (1 + ID_WORDS + pool.names.length);
  return {
    handle,
    pool,
    table: int32s(handle, words),
    lock: Mutex.from({ kind: 'Mutex', buffer: handle.buffer, byteOffset: handle.byteOffset }),
  };
}

function rowWords(shared: Shared): number {
  return 1 + ID_WORDS + shared.pool.names.length;
}

function idBytes(streamId: string): Uint8Array {
  nonEmptyString('streamId', streamId);
  const bytes = encoder.encode(streamId);
  if (bytes.byteLength > ID_BYTES) throw new InvalidArgumentError(`streamId must be at most ${ID_BYTES} bytes of UTF-8`);
  return bytes;
}

/** First word of the row held by `id`, or -1. Caller holds the table lock. */
function findRow(shared: Shared, id: Uint8Array, free = false): number {
  const { table } = shared;
  const width = rowWords(shared);
  const idView = new Uint8Array(table.buffer, table.byteOffset, table.byteLength);
  for (let row = TABLE; row < table.length; row += width) {
    const length = table[row]!;
    if (free && length === 0) return row;
    if (length !== id.byteLength) continue;
    const at = (row + 1) * 4;
    let same = true;
    for (let i = 0; i < length && same; i++) same = idView[at + i] === id[i];
    if (same) return row;
  }
  return -1;
}

function rowAmounts(shared: Shared, row: number): number[] {
  return Array.from(shared.table.subarray(row + 1 + ID_WORDS, row + rowWords(shared)));
}

async function record(shared: Shared, id: Uint8Array, amounts: number[]): Promise<void> {
  const guard = await shared.lock.lockAsync({ timeoutMs: 10_000 });
  try {
    let row = findRow(shared, id);
    if (row < 0) {
      row = findRow(shared, id, true);
      if (row < 0) throw new CapacityError(`more than ${shared.handle.maxHolders} streams hold resources; raise options.maxHolders`);
      shared.table[row] = id.byteLength;
      new Uint8Array(shared.table.buffer, shared.table.byteOffset + (row + 1) * 4, ID_BYTES).set(id);
    }
    amounts.forEach((a, d) => {
      shared.table[row + 1 + ID_WORDS + d]! += a;
    });
  } finally {
    guard.unlock();
  }
}

/** The largest allocation in [least, wanted] that fits what is free now, taken; or undefined. */
function negotiate(pool: ResourcePool, wanted: readonly number[], least: readonly number[]): number[] | undefined {
  const names = pool.names;
  // What is free may change between the look and the take: try a few times.
  for (let attempt = 0; attempt < 3; attempt++) {
    const free = pool.available();
    const deal = wanted.map((w, d) => Math.min(w, free[names[d]!]!));
    if (deal.some((a, d) => a < least[d]!)) return undefined;
    if (pool.tryAcquire(Object.fromEntries(names.map((n, d) => [n, deal[d]!])))) return deal;
  }
  return undefined;
}

function recordOf(shared: Shared, amounts: readonly number[]): Record<string, number> {
  return Object.fromEntries(shared.pool.names.map((n, d) => [n, amounts[d]!]));
}

function amountsRecord(shared: Shared, amounts: readonly number[] | undefined): Record<string, number> {
  return recordOf(shared, amounts ?? shared.pool.names.map(() => 0));
}

function describe(shared: Shared, amounts: readonly number[]): string {
  return shared.pool.names.map((n, d) => `${amounts[d]} ${n}`).join(', ');
}

function shortfall(shared: Shared, wanted: readonly number[]): string {
  const free = shared.pool.available();
  const short = shared.pool.names.filter((n, d) => wanted[d]! > free[n]!).map((n) => `${n}: asked ${wanted[shared.pool.names.indexOf(n)]}, ${free[n]} free`);
  return short.length > 0 ? short.join('; ') : 'others are queued ahead';
}

function refusal(shared: Shared, reason: RefusalReason, message: string): ResourceGrant {
  return { granted: false, negotiated: false, message, allocation: amountsRecord(shared, undefined), reason };
}
