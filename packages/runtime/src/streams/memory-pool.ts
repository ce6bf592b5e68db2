/**
 * The run slab: memory for small runs, reused. A fresh run memory is a new SharedArrayBuffer
 * with a barrier registered for owner-death repair (~10 us), and a buffer in a task message
 * costs its structured clone on both threads: together about half of what an empty stream's
 * round trip paid beyond raw Piscina's (measured, same run: 1.7-1.9x before, 1.3-1.4x after). A coordinator makes one slab of fixed blocks, hands it to every thread
 * once (`workerData`), and gives each small run a block: its task message carries an offset only.
 *
 * A block is reused when no thread can touch it any more. An attempt that ended in its worker
 * with an outcome is over: its context went inert (its heartbeat, progress and checkpoint do
 * nothing, its signal is cut from the run's memory, its barrier throws). Two kinds of attempt
 * may still write after their run ended, and the run names their threads (`run.ts`): a lost
 * one (terminated, crashed, restarted or retired: its thread may still be running as it dies)
 * and one that left an async `ctx.barrier` wait pending (slot RETAINED). Their block comes
 * back once each of those threads has exited; a lost attempt whose thread is unknown (it had
 * not written its slot yet) keeps its block out for good. Runs too big for a block, laned
 * runs, and small runs while every block is taken get a buffer of their own, as before.
 */
import { Barrier } from '../sync/barrier.js';
import { RETAINED, RUN_INFO_BYTES, RunMemory, THREAD, type RunInfo } from './layout.js';

/** Runs of at most this many streams fit in a block. */
const BLOCK_STREAMS = 16;
/** Blocks in a slab: small runs in flight at once before they get buffers of their own. */
const BLOCKS = 64;
/** A block: the run's info, a barrier for BLOCK_STREAMS parties, then the words of BLOCK_STREAMS streams. */
const BLOCK_BYTES = RunMemory.bytesFor(BLOCK_STREAMS, 0);

/** A coordinator's run slab and its free blocks. */
export class RunMemoryPool {
  /** The slab every stream thread gets once, as `workerData.shared.runSlab`. */
  readonly slab = new SharedArrayBuffer(BLOCKS * BLOCK_BYTES);
  /** Free block numbers; the last is taken first (its memory is the likeliest in cache). */
  readonly #free = Array.from({ length: BLOCKS }, (_, i) => BLOCKS - 1 - i);
  /** Blocks waiting for threads that may still write to them to exit, by block. */
  readonly #held = new Map<number, Set<number>>();
  /** The pool's threads that have not exited. */
  readonly #alive = new Set<number>();

  constructor() {
    // The coordinator's thread repairs each block's barrier when a thread dies waiting at it,
    // as it does every run barrier it made (`sync/robust.ts`): registered once per block.
    for (let block = 0; block < BLOCKS; block++) Barrier.from(Barrier.handleAt(this.slab, block * BLOCK_BYTES + RUN_INFO_BYTES));
  }

  /** Memory for the run `info` describes: a free block renewed when the run fits one, else a buffer of its own. */
  take(info: RunInfo): RunMemory {
    const block = info.lanes === 0 && info.streams <= BLOCK_STREAMS ? this.#free.pop() : undefined;
    if (block === undefined) return RunMemory.create(info);
    return RunMemory.renew(this.slab, block * BLOCK_BYTES, BLOCK_STREAMS, info);
  }

  /**
   * Gives back `memory`'s block, if it has one, once every thread in `writers` (those that may
   * still write to it) has exited; the caller vouches that no other thread touches it any more.
   */
  give(memory: RunMemory, writers: ReadonlySet<number>): void {
    if (typeof memory.ref !== 'number') return;
    const block = memory.ref / BLOCK_BYTES;
    // Most runs lost no attempt: no set is built for them.
    const waiting = writers.size === 0 ? undefined : new Set([...writers].filter((thread) => this.#alive.has(thread)));
    if (waiting === undefined || waiting.size === 0) this.#free.push(block);
    else this.#held.set(block, waiting);
  }

  /** A thread of the pool started (its id is what a slot's THREAD word holds). */
  threadStarted(threadId: number): void {
    this.#alive.add(threadId);
  }

  /** A thread of the pool exited: the blocks that waited only for it come back. */
  threadExited(threadId: number): void {
    this.#alive.delete(threadId);
    for (const [block, waiting] of this.#held) {
      if (!waiting.delete(threadId) || waiting.size > 0) continue;
      this.#held.delete(block);
      this.#free.push(block);
    }
  }
}

/**
 * The threads that may still write to one run's memory once the run has ended: those of its
 * lost attempts and of attempts that ended with an async barrier wait pending (slot RETAINED).
 */
export class RunWriters {
  /** Undefined once a lost attempt's thread is unknown (it had not written its slot yet): the memory is never reused. */
  #threads: Set<number> | undefined = new Set();

  /** Stream `index`'s current attempt was lost: its thread (slot THREAD) may still write to `memory`. */
  lost(memory: RunMemory, index: number): void {
    const thread = memory.get(index, THREAD);
    if (thread === 0) this.#threads = undefined;
    else this.#threads?.add(thread);
  }

  /** The run has ended: gives `memory` back to `pool` once every thread that may still write to it has exited. */
  giveBack(memory: RunMemory, pool: RunMemoryPool): void {
    for (let index = 0; index < memory.streams; index++) if (memory.get(index, RETAINED) !== 0) this.lost(memory, index);
    if (this.#threads !== undefined) pool.give(memory, this.#threads);
  }
}
