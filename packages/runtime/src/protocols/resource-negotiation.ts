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
 * **Thread death.** A request queued by a thread that dies leaves the pool's queue (the pool
 * drops its ticket), and what a dead thread was granted returns to the pool (the pool drops
 * its holder row, and this table drops the rows that thread was granted), so nothing a dead
 * stream held or waited for stops the others.
 *
 * Holder table layout (Int32 words), guarded by a `Mutex` in the same arena:
 *
 * | word of a row     | meaning                                            | written by             |
 * | ----------------- | -------------------------------------------------- | ---------------------- |
 * | LENGTH            | the stream id's UTF-8 length; 0 marks a free row   | table-lock holder      |
 * | ID (16 words)     | the stream id's bytes                              | table-lock holder      |
 * | HOLDER            | owner token of the thread the grants were made in  | table-lock holder      |
 * | AMOUNT + d        | amount of resource d granted                       | table-lock holder      |
 *
 * One row per (stream id, thread): a release by id frees every row of that id, each from the
 * pool's holder row of the thread it was granted in. A row is filled id first and LENGTH last,
 * so a thread dying half-way through leaves either a whole row or a free one.
 */
import { Arena, int32s } from '../shared/arena.js';
import { CapacityError, InvalidArgumentError, InvalidStateError, ResourceError, TimeoutError } from '../shared/errors.js';
import { checkHandle, type Handle } from '../shared/handle.js';
import { currentToken } from '../shared/thread.js';
import { integerIn, nonEmptyString, nonNegativeFinite, optionsObject } from '../shared/validate.js';
import { Mutex, type MutexHandle } from '../sync/mutex.js';
import { registerRepair } from '../sync/robust.js';
import { ResourcePool, type ResourceAmounts, type ResourcePoolHandle } from '../sync/resource-pool.js';

/** Options of one request. */
export interface RequestOptions {
  /** The least acceptable allocation: enables negotiation down to it. Default: the whole request (no negotiation). */
  readonly min?: ResourceAmounts;
  /** Queue for up to this long (FIFO) if it does not fit now. Default: 0, refuse at once. */
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
  readonly lock: MutexHandle;
  readonly maxHolders: number;
}

const ID_BYTES = 64;
const ID_WORDS = ID_BYTES / 4;
const ID = 1;
const HOLDER = ID + ID_WORDS;
const AMOUNT = HOLDER + 1;
const TABLE = 0;
const encoder = new TextEncoder();
/** Rows of the pool's own holder table (threads granted at once), at most. */
const MAX_POOL_HOLDERS = 256;

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
      const total = shared.pool.names.map(() => 0);
      for (const row of rowsOf(shared, idBytes(streamId))) rowAmounts(shared, row).forEach((a, d) => (total[d]! += a));
      return amountsRecord(shared, total);
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
    const total = shared.pool.names.map(() => 0);
    try {
      for (const row of rowsOf(shared, id)) {
        const amounts = rowAmounts(shared, row);
        const holder = shared.table[row + HOLDER]!;
        // Freed first: should the pool refuse, the row must not be released twice later.
        shared.table.fill(0, row, row + rowWords(shared));
        if (amounts.some((a) => a > 0)) shared.pool.releaseFor(holder, recordOf(shared, amounts));
        amounts.forEach((a, d) => (total[d]! += a));
      }
    } finally {
      guard.unlock();
    }
    return amountsRecord(shared, total);
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
  const tableBytes = maxHolders * (AMOUNT + dims) * 4;
  // The pool's holder table needs a row per thread granted at once, at most one per stream row.
  const poolOptions = { maxHolders: Math.min(maxHolders, MAX_POOL_HOLDERS) };
  const arena = new Arena(tableBytes + ResourcePool.byteLength(dims, poolOptions.maxHolders) + 64);
  const pool = new ResourcePool(capacity, { arena, ...poolOptions });
  const lock = new Mutex({ arena });
  const table = arena.allocate(tableBytes);
  return attach({ kind: 'ResourceNegotiation', buffer: table.buffer, byteOffset: table.byteOffset, pool: pool.handle, lock: lock.handle, maxHolders });
}

function attach(handle: ResourceNegotiationHandle): Shared {
  const pool = ResourcePool.from(handle.pool);
  const words = handle.maxHolders * (AMOUNT + pool.names.length);
  const shared: Shared = { handle, pool, table: int32s(handle, words), lock: Mutex.from(handle.lock) };
  // Weakly: the registry holds buffers weakly, and a strong path from the repair would keep them.
  const weak = new WeakRef(shared);
  registerRepair(handle.buffer, handle.byteOffset / 4, (_view, _index, dead) => {
    const live = weak.deref();
    return live === undefined ? 0 : dropRowsOf(live, dead);
  });
  return shared;
}

/**
 * Thread-death repair: forgets the rows granted in the dead thread (the pool returns what that
 * thread held itself). Runs now if the table lock is free, else as soon as it is.
 */
function dropRowsOf(shared: Shared, dead: number): number {
  const drop = (): number => {
    let dropped = 0;
    for (let row = TABLE; row < shared.table.length; row += rowWords(shared)) {
      if (shared.table[row] !== 0 && shared.table[row + HOLDER] === dead) {
        shared.table.fill(0, row, row + rowWords(shared));
        dropped++;
      }
    }
    return dropped;
  };
  const guard = shared.lock.tryLock();
  if (guard !== null) {
    try {
      return drop();
    } finally {
      guard.unlock();
    }
  }
  void shared.lock.withLockAsync(drop, { timeoutMs: 10_000 }).catch(() => {
    // Held by a live thread for 10 s: the coordinator's release by id still frees these rows.
  });
  return 0;
}

function rowWords(shared: Shared): number {
  return AMOUNT + shared.pool.names.length;
}

function idBytes(streamId: string): Uint8Array {
  nonEmptyString('streamId', streamId);
  const bytes = encoder.encode(streamId);
  if (bytes.byteLength > ID_BYTES) throw new InvalidArgumentError(`streamId must be at most ${ID_BYTES} bytes of UTF-8`);
  return bytes;
}

/** Whether the row at `row` holds `id`. Caller holds the table lock. */
function rowIs(shared: Shared, row: number, id: Uint8Array): boolean {
  const { table } = shared;
  if (table[row] !== id.byteLength) return false;
  const bytes = new Uint8Array(table.buffer, table.byteOffset + (row + ID) * 4, id.byteLength);
  for (let i = 0; i < id.byteLength; i++) if (bytes[i] !== id[i]) return false;
  return true;
}

/** First words of every row of `id`. Caller holds the table lock. */
function rowsOf(shared: Shared, id: Uint8Array): number[] {
  const rows: number[] = [];
  for (let row = TABLE; row < shared.table.length; row += rowWords(shared)) if (rowIs(shared, row, id)) rows.push(row);
  return rows;
}

function rowAmounts(shared: Shared, row: number): number[] {
  return Array.from(shared.table.subarray(row + AMOUNT, row + rowWords(shared)));
}

/** Adds `amounts` to the row of (`id`, this thread), making one if needed. */
async function record(shared: Shared, id: Uint8Array, amounts: number[]): Promise<void> {
  const guard = await shared.lock.lockAsync({ timeoutMs: 10_000 });
  try {
    const { table } = shared;
    let row = rowsOf(shared, id).find((r) => table[r + HOLDER] === currentToken) ?? -1;
    if (row < 0) {
      for (let r = TABLE; r < table.length && row < 0; r += rowWords(shared)) if (table[r] === 0) row = r;
      if (row < 0) throw new CapacityError(`more than ${shared.handle.maxHolders} streams hold resources; raise options.maxHolders`);
      // Id and holder first, LENGTH last: the row exists only once it is whole.
      new Uint8Array(table.buffer, table.byteOffset + (row + ID) * 4, ID_BYTES).set(id);
      table[row + HOLDER] = currentToken;
      table.fill(0, row + AMOUNT, row + rowWords(shared));
      table[row] = id.byteLength;
    }
    amounts.forEach((a, d) => {
      table[row + AMOUNT + d]! += a;
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
