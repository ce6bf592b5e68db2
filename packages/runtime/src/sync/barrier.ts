/**
 * Barrier: a cyclic barrier for a fixed number of parties, in shared memory.
 *
 * Layout: two BigInt64 words, the packed state and the party count (`raw/barrier.ts`), and a
 * waiter table in a buffer of its own (`raw/barrier-waiters.ts`), carried by the handle.
 *
 * **Breakage** is all-or-none, as in Java's CyclicBarrier: when a waiter times out or is
 * aborted, or `break()` is called, every party waiting in that generation gets
 * `BrokenBarrierError`, and later waits fail at once until `reset()`.
 *
 * **Thread death.** A party whose thread dies while waiting (or while arriving) breaks the
 * generation: the waiters get `BrokenBarrierError`, never a pass the dead party did not give
 * (reported by `watchWorker`). A party that dies after the round tripped had arrived; nothing
 * breaks. At most 2 x parties + 2 waiters (1,023 at most) are tracked at once; a party beyond
 * that waits untracked, and its death is noticed only by the others' timeouts.
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
import { int64s, type Placement, type Region } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { CapacityError, InvalidArgumentError, InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { currentToken } from '../shared/thread.js';
import { integerIn } from '../shared/validate.js';
import { HANDOFF_SPINS, startWait, untilAsync, untilSync, type WaitContext, type WaitOptions } from '../shared/wait.js';
import * as waiters from './raw/barrier-waiters.js';
import * as raw from './raw/barrier.js';
import { registerRepair } from './robust.js';

/** Structured-cloneable description of a {@link Barrier}. */
export interface BarrierHandle extends Handle<'Barrier'> {
  /** The waiter table's memory. */
  /** Where the waiter table lives: the arena's buffer when the barrier was placed in one. */
  readonly waiters: Region;
}

/** A cyclic barrier with all-or-none breakage. See the module documentation. */
export class Barrier {
  readonly #handle: BarrierHandle;
  readonly #view: BigInt64Array;
  readonly #table: Int32Array;
  /** This thread's registration slot (-1: not registered through this object). */
  #registered = -1;
  /** Closed by {@link Barrier.close}: its stream's attempt is over. */
  #closed = false;
  /** Async waits through this object not yet ended. */
  #pendingAsync = 0;

  /** A barrier that trips when `parties` parties have arrived. */
  constructor(parties: number, options?: Placement) {
    const claim = claimRegion('Barrier', raw.WORDS * 8, options);
    if (claim.fresh) integerIn('parties', parties, 1, raw.MAX_PARTIES);
    const slots = slotsFor(parties);
    // In an arena the table shares its buffer: one SharedArrayBuffer per message, not two.
    const tableBytes = waiters.wordsFor(slots) * 4;
    const handle: BarrierHandle = claim.fresh
      ? { ...claim.handle, waiters: options?.arena?.allocate(tableBytes) ?? { buffer: new SharedArrayBuffer(tableBytes), byteOffset: 0 } }
      : (claim.handle as BarrierHandle);
    const table = handle.waiters as Partial<Region> | undefined;
    if (!(table?.buffer instanceof SharedArrayBuffer) || !Number.isInteger(table.byteOffset)) {
      throw new InvalidArgumentError('expected a Barrier handle with its waiters region (from barrier.handle)');
    }
    this.#handle = handle;
    this.#view = int64s(handle, raw.WORDS);
    if (claim.fresh) waiters.init(new Int32Array(handle.waiters.buffer, handle.waiters.byteOffset, 1), slots);
    this.#table = waiterTable(handle.waiters);
    if (claim.fresh) atomics.store(this.#view, raw.PARTIES, BigInt(parties));
    // The repair may hold nothing strong that reaches the barrier's buffer, or the registry
    // (which holds buffers weakly) could never forget it: views are rebuilt from its arguments.
    const tableBuffer = new WeakRef(handle.waiters.buffer);
    const tableOffset = handle.waiters.byteOffset;
    registerRepair(handle.buffer, handle.byteOffset / 4, (words, index, dead) => {
      const buffer = tableBuffer.deref();
      if (buffer === undefined) return 0;
      return raw.recoverDead(new BigInt64Array(words.buffer, index * 4, raw.WORDS), waiterTable({ buffer, byteOffset: tableOffset }), dead);
    });
  }

  /** Bytes a barrier of `parties` parties takes in an arena (its words and its waiter table). */
  static bytesFor(parties: number): number {
    return raw.WORDS * 8 + Math.ceil((waiters.wordsFor(slotsFor(parties)) * 4) / 8) * 8;
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
    this.#open('wait');
    const ctx = startWait('Barrier.wait', options);
    const view = this.#view;
    const slot = this.#slot();
    try {
      const arrival = untilSync(ctx, () => raw.arriveStep(view, this.#table, slot));
      if (!arrival.last) untilSync(ctx, () => raw.awaitStep(view, arrival.generation), giveUp(view, arrival.generation), HANDOFF_SPINS);
      return arrival.last;
    } finally {
      waiters.leaveWait(this.#table, slot);
    }
  }

  /** Arrives and waits without blocking the event loop. */
  async waitAsync(options?: WaitOptions): Promise<boolean> {
    this.#open('waitAsync');
    const ctx: WaitContext = startWait('Barrier.waitAsync', options);
    const view = this.#view;
    const slot = this.#slot();
    this.#pendingAsync++;
    try {
      const arrival = await untilAsync(ctx, () => raw.arriveStep(view, this.#table, slot));
      if (!arrival.last) await untilAsync(ctx, () => raw.awaitStep(view, arrival.generation), giveUp(view, arrival.generation));
      return arrival.last;
    } finally {
      waiters.leaveWait(this.#table, slot);
      this.#pendingAsync--;
    }
  }

  #open(method: string): void {
    if (this.#closed) throw new InvalidStateError(`Barrier.${method}: this is a stream's ctx.barrier and its attempt is over; use it only while the stream function runs`);
  }

  /** The slot this wait uses: the registration's, or a fresh one (-1 if the table is full). */
  #slot(): number {
    return this.#registered >= 0 ? this.#registered : waiters.claim(this.#table, currentToken);
  }

  /**
   * Registers the calling thread as a party watched for death until {@link Barrier.unregister}:
   * if its thread dies even between waits, the barrier breaks (the round can never trip
   * without it). Without registration only a death while waiting is noticed.
   * @throws CapacityError when the waiter table is full; InvalidStateError when registered already.
   */
  register(): void {
    this.#open('register');
    if (this.#registered >= 0) throw new InvalidStateError('Barrier.register: this thread is registered already');
    const slot = waiters.claim(this.#table, currentToken);
    if (slot < 0) throw new CapacityError(`Barrier.register: all ${waiters.slotsOf(this.#table)} waiter slots are in use`);
    waiters.markRegistered(this.#table, slot);
    this.#registered = slot;
  }

  /** Ends this thread's registration (see {@link Barrier.register}); a no-op when not registered. */
  unregister(): void {
    this.#open('unregister');
    waiters.free(this.#table, this.#registered);
    this.#registered = -1;
  }

  /** Breaks the current generation: its waiters and later arrivals get BrokenBarrierError. */
  break(): void {
    this.#open('break');
    raw.breakBarrier(this.#view, false);
  }

  /**
   * Removes one party for good: later rounds trip with one party fewer, and a round whose
   * waiters now suffice trips at once. Deregistering the last party breaks the barrier.
   */
  deregister(): void {
    this.#open('deregister');
    raw.deregister(this.#view);
  }

  /**
   * Breaks the current generation (its waiters get BrokenBarrierError) and, once they have
   * left, starts a fresh one that later arrivals join.
   */
  reset(): void {
    this.#open('reset');
    raw.breakBarrier(this.#view, true);
  }

  /**
   * Ends this object's use of the barrier (its stream's attempt is over): every later call
   * throws InvalidStateError. Returns false while an async wait through it is still pending,
   * which may touch the barrier's memory when it ends.
   * @internal
   */
  close(): boolean {
    this.#closed = true;
    return this.#pendingAsync === 0;
  }

  /**
   * The handle of a barrier laid out at `byteOffset` of `buffer` as the constructor lays one
   * out in an arena: its words, then its waiter table.
   * @internal
   */
  static handleAt(buffer: SharedArrayBuffer, byteOffset: number): BarrierHandle {
    return { kind: 'Barrier', buffer, byteOffset, waiters: { buffer, byteOffset: byteOffset + raw.WORDS * 8 } };
  }

  /**
   * Writes a new barrier of `parties` parties into the zeroed memory at `handle` (generation 0,
   * nobody waiting or registered); its region must hold `Barrier.bytesFor(parties)` bytes.
   * Only for memory no thread uses any more (a stream run's memory being reused).
   * @internal
   */
  static renew(handle: BarrierHandle, parties: number): void {
    waiters.init(new Int32Array(handle.waiters.buffer, handle.waiters.byteOffset, 1), slotsFor(parties));
    atomics.store(int64s(handle, raw.WORDS), raw.PARTIES, BigInt(parties));
  }
}

function giveUp(view: BigInt64Array, generation: bigint): () => true | undefined {
  return () => (raw.giveUp(view, generation) ? true : undefined);
}

/** Waiter slots tracked for `parties` parties (two generations' worth, capped). */
function slotsFor(parties: number): number {
  return Math.min(2 * parties + 2, raw.MAX_SLOTS);
}

/** The waiter table in `region` (its slot count is its first word: `raw/barrier-waiters.ts`). */
function waiterTable(region: Region): Int32Array {
  const { buffer, byteOffset } = region;
  if (byteOffset % 4 !== 0 || byteOffset + 4 > buffer.byteLength) {
    throw new InvalidArgumentError('the Barrier handle\'s waiters region lies outside its buffer; pass barrier.handle as it is');
  }
  const words = waiters.wordsIn(buffer, byteOffset);
  if (byteOffset + words * 4 > buffer.byteLength) {
    throw new InvalidArgumentError('the Barrier handle\'s waiter table runs past its buffer; pass barrier.handle as it is');
  }
  return new Int32Array(buffer, byteOffset, words);
}
