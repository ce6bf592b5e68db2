/**
 * The shared memory of one run: a header and one slot per stream, written by the worker
 * running the stream and read by the coordinator (and the other way for CANCEL).
 *
 * | word              | writer      | meaning                                                     |
 * | ----------------- | ----------- | ----------------------------------------------------------- |
 * | CP_EPOCH          | coordinator | checkpoint epoch raised (0: none yet)                        |
 * | CP_RELEASED       | coordinator | last checkpoint epoch released; arrivals park on it           |
 * | CP_ARRIVALS       | streams     | bumped on each arrival, so the coordinator can park on it      |
 * | slot.STATE        | both        | QUEUED, RUNNING or SETTLED                                    |
 * | slot.THREAD       | worker      | threadId running it                                           |
 * | slot.ATTEMPT      | coordinator | attempt number                                                |
 * | slot.HEARTBEAT    | worker      | ms since the run's epoch + 1 of the last beat (0: never)      |
 * | slot.PROGRESS     | worker      | progress x 1e6                                                |
 * | slot.CANCEL       | coordinator | non-zero: the stream is cancelled (its ctx.signal aborts)      |
 * | slot.CP_SEEN      | worker      | last checkpoint epoch this stream arrived at                   |
 * | slot.STARTED      | worker      | ms since the run's epoch + 1 when the attempt started running  |
 *
 * HEARTBEAT is an Int32 offset from the run's epoch so a beat is one store of a small integer
 * (no BigInt allocation); it wraps only after 24.8 days of one run.
 */
import { Arena, int32s, type Region } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { now } from '../shared/clock.js';
import { Barrier, type BarrierHandle } from '../sync/barrier.js';

export const CP_EPOCH = 0;
export const CP_RELEASED = 1;
export const CP_ARRIVALS = 2;
const HEADER_WORDS = 4;

export const STATE = 0;
export const THREAD = 1;
export const ATTEMPT = 2;
export const HEARTBEAT = 3;
export const PROGRESS = 4;
export const CANCEL = 5;
export const CP_SEEN = 6;
export const STARTED = 7;
const SLOT_WORDS = 8;

/** Progress is stored as an integer fraction of this. */
export const PROGRESS_SCALE = 1_000_000;

/** slot.STATE: dispatched, waiting for a worker. */
export const QUEUED = 0;
/** slot.STATE: a worker runs it. */
export const RUNNING = 1;
/** slot.STATE: it settled (complete, failed or cancelled). */
export const SETTLED = 2;

/** Structured-cloneable description of a run's memory, sent with every stream task. */
export interface RunHandles {
  readonly words: Region;
  /** Checkpoint interval of the run (0: no checkpoints); bounds how long an arrival waits. */
  readonly checkpointIntervalMs: number;
  readonly streams: number;
  readonly barrier: BarrierHandle;
  /** Epoch ms the HEARTBEAT offsets count from. */
  readonly epochMs: number;
}

/** Word index of `field` in stream `index`'s slot. */
export function slotWord(index: number, field: number): number {
  return HEADER_WORDS + index * SLOT_WORDS + field;
}

/** A run's memory, viewed from either side. */
export class RunMemory {
  readonly words: Int32Array;
  readonly barrier: Barrier;
  readonly handles: RunHandles;

  private constructor(handles: RunHandles, barrier: Barrier) {
    this.handles = handles;
    this.words = int32s(handles.words, HEADER_WORDS + handles.streams * SLOT_WORDS);
    this.barrier = barrier;
  }

  /** Lays out a fresh run for `streams` streams. */
  static create(streams: number, epochMs: number, checkpointIntervalMs: number): RunMemory {
    const wordBytes = (HEADER_WORDS + streams * SLOT_WORDS) * 4;
    const arena = new Arena(wordBytes + 64);
    const words = arena.allocate(wordBytes);
    const barrier = new Barrier(Math.max(1, streams), { arena });
    return new RunMemory({ words, streams, barrier: barrier.handle, epochMs, checkpointIntervalMs }, barrier);
  }

  /** The same memory from its handles (in a worker). */
  static from(handles: RunHandles): RunMemory {
    return new RunMemory(handles, Barrier.from(handles.barrier));
  }

  /** Reads a slot field. */
  get(index: number, field: number): number {
    return atomics.load(this.words, slotWord(index, field));
  }

  /** Writes a slot field. */
  set(index: number, field: number, value: number): void {
    atomics.store(this.words, slotWord(index, field), value);
  }

  /** Epoch ms of stream `index`'s last heartbeat, or undefined if it never beat. */
  lastHeartbeat(index: number): number | undefined {
    return this.#instant(this.get(index, HEARTBEAT));
  }

  /** Epoch ms when stream `index`'s current attempt started running, if it has. */
  startedAt(index: number): number | undefined {
    return this.#instant(this.get(index, STARTED));
  }

  /** Stores the current time into a time field of stream `index` (worker side). */
  stamp(index: number, field: number): void {
    this.set(index, field, now() - this.handles.epochMs + 1);
  }

  #instant(offset: number): number | undefined {
    return offset === 0 ? undefined : this.handles.epochMs + offset - 1;
  }

  /** Progress of stream `index`, 0..1. */
  progress(index: number): number {
    return this.get(index, PROGRESS) / PROGRESS_SCALE;
  }
}
