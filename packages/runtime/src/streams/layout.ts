/**
 * The shared memory of one run: a header and one slot per stream, written by the worker
 * running the stream and read by the coordinator (and the other way for CANCEL).
 *
 * | word              | writer      | meaning                                                     |
 * | ----------------- | ----------- | ----------------------------------------------------------- |
 * | (checkpoint hdr)  | both        | EPOCH, RELEASED, ARRIVALS of `sync/raw/checkpoint.ts`        |
 * | PARK_EVENTS       | workers     | bumped whenever a stream parks or wakes; the scheduler parks on it |
 * | CLAIMS            | both        | next stream a lane claims (`lanes.ts`); CLOSED once stopped  |
 * | slot.STATE        | both        | QUEUED, RUNNING or SETTLED                                    |
 * | slot.THREAD       | worker      | threadId running it                                           |
 * | slot.ATTEMPT      | coordinator | attempt number                                                |
 * | slot.HEARTBEAT    | worker      | clock offset (`offsetFrom`) of the last beat (0: never)        |
 * | slot.PROGRESS     | worker      | progress x 1e6                                                |
 * | slot.CANCEL       | coordinator | NOT_CANCELLED, CANCELLED or TIMED_OUT (its ctx.signal aborts)   |
 * | slot.CP_SEEN      | worker      | last checkpoint epoch this stream arrived at                   |
 * | slot.STARTED      | worker      | clock offset of when the stream function was called (0: not yet) |
 * | slot.PARKED       | worker      | waits this stream is parked in now (async streams may nest them) |
 * | slot.WAITS_ON     | worker      | what its latest park waits on: RUN_BARRIER, CHECKPOINT or OTHER |
 * | slot.RETAINED     | worker      | 1 when its attempt ended with an async `ctx.barrier` wait pending |
 *
 * After the slots, a laned run (`lanes.ts`) has one word per lane: index + 1 of the stream
 * the lane runs now (0: between streams; -1: its task has not reached a thread yet). Before
 * the words, in the same SharedArrayBuffer, lie the run's info ({@link RunInfo}: its id, size,
 * clock epoch and checkpoint interval, so a task names its run by one number) and its barrier.
 *
 * Small runs take their memory from the coordinator's run slab (`memory-pool.ts`), a buffer
 * every thread got once: their task message carries no buffer at all, only an offset. A block is
 * reused when nothing can touch it any more: a context goes inert when its attempt ends, and
 * RETAINED marks the one thing that can outlive it (an async barrier wait left pending).
 *
 * A dead worker leaves PARKED and WAITS_ON as they were: the coordinator reads them only for
 * attempts it believes alive and resets the slot before the next attempt.
 */
import { Arena } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { instantOf, offsetFrom } from '../shared/clock.js';
import { Barrier, type BarrierHandle } from '../sync/barrier.js';
import { HEADER_WORDS as CHECKPOINT_WORDS } from '../sync/raw/checkpoint.js';

export const PARK_EVENTS = CHECKPOINT_WORDS;
const CLAIMS = PARK_EVENTS + 1;
const HEADER_WORDS = CLAIMS + 1;
/** CLAIMS once a run is cancelled: far past any stream count, with room for late claims. */
const CLOSED = 1 << 30;

export const STATE = 0;
export const THREAD = 1;
export const ATTEMPT = 2;
export const HEARTBEAT = 3;
export const PROGRESS = 4;
export const CANCEL = 5;
export const CP_SEEN = 6;
export const STARTED = 7;
export const PARKED = 8;
export const WAITS_ON = 9;
export const RETAINED = 10;
const SLOT_WORDS = 11;

/** Progress is stored as an integer fraction of this. */
export const PROGRESS_SCALE = 1_000_000;

/** slot.STATE: dispatched, waiting for a worker. */
export const QUEUED = 0;
/** slot.STATE: a worker runs it. */
export const RUNNING = 1;
/** slot.STATE: it settled (complete, failed or cancelled). */
export const SETTLED = 2;

/** slot.CANCEL: the stream goes on. */
export const NOT_CANCELLED = 0;
/** slot.CANCEL: the run or the guardian cancelled it. */
export const CANCELLED = 1;
/** slot.CANCEL: its time budget ran out. */
export const TIMED_OUT = 2;

/** slot.WAITS_ON: the run's own barrier (only the run's streams can release it). */
export const RUN_BARRIER = 1;
/** slot.WAITS_ON: an aligned checkpoint (the coordinator releases it within an interval). */
export const CHECKPOINT = 2;
/** slot.WAITS_ON: anything else (a lock, semaphore, latch, ...). */
export const OTHER = 3;

/**
 * What a task message names a run's memory by: the byte offset of its block in the
 * coordinator's run slab (`memory-pool.ts`), or the buffer of its own it lies in (at offset 0).
 * A number, not an object: each key and nested object costs a task's structured clone on both
 * threads, and an empty stream's round trip is mostly that clone and Piscina's own.
 */
export type RunRef = number | SharedArrayBuffer;

/**
 * What a run's memory says of the run, in Float64 words at its start (the run's info), written
 * by the coordinator before any task names the run: a worker learns all of it from the
 * {@link RunRef} alone.
 */
export interface RunInfo {
  /** Numbers the coordinator's runs: addresses services requests. */
  readonly runId: number;
  readonly streams: number;
  /** Lanes of a laned run (0: one task per attempt). */
  readonly lanes: number;
  /** Epoch ms the clock offsets count from. */
  readonly epochMs: number;
  /** Checkpoint interval of the run (0: no checkpoints); bounds how long an arrival waits. */
  readonly checkpointIntervalMs: number;
}

/** The Float64 word of each field of a run's info; `wordsAt` is the byte offset of its words from the start of its memory. */
const INFO = { runId: 0, streams: 1, lanes: 2, epochMs: 3, checkpointIntervalMs: 4, wordsAt: 5 } as const;
const INFO_WORDS = 6;
/** Bytes of the run's info; its barrier follows. */
export const RUN_INFO_BYTES = INFO_WORDS * 8;

/** Word index of `field` in stream `index`'s slot. */
export function slotWord(index: number, field: number): number {
  return HEADER_WORDS + index * SLOT_WORDS + field;
}

/** Bytes of a run's words for `streams` streams and `lanes` lanes. */
export function runWordBytes(streams: number, lanes: number): number {
  return (HEADER_WORDS + streams * SLOT_WORDS + lanes) * 4;
}

/** A run's memory, viewed from either side: its info, its barrier right after, then its words. */
export class RunMemory implements RunInfo {
  /** What a task message names this memory by. */
  readonly ref: RunRef;
  readonly words: Int32Array;
  readonly runId: number;
  readonly streams: number;
  readonly lanes: number;
  readonly epochMs: number;
  readonly checkpointIntervalMs: number;
  readonly #buffer: SharedArrayBuffer;
  readonly #at: number;
  #barrier: Barrier | undefined;

  private constructor(ref: RunRef, buffer: SharedArrayBuffer, barrier: Barrier | undefined) {
    const at = typeof ref === 'number' ? ref : 0;
    const info = new Float64Array(buffer, at, INFO_WORDS);
    this.ref = ref;
    this.#buffer = buffer;
    this.#at = at;
    this.runId = info[INFO.runId]!;
    this.streams = info[INFO.streams]!;
    this.lanes = info[INFO.lanes]!;
    this.epochMs = info[INFO.epochMs]!;
    this.checkpointIntervalMs = info[INFO.checkpointIntervalMs]!;
    this.words = new Int32Array(buffer, at + info[INFO.wordsAt]!, runWordBytes(this.streams, this.lanes) / 4);
    this.#barrier = barrier;
  }

  /** The run's barrier, rebuilt on first use only: most runs never break or shrink it. */
  get barrier(): Barrier {
    return (this.#barrier ??= Barrier.from(this.barrierHandle));
  }

  /** The handle of the run's barrier (each stream's `ctx.barrier` is a view of its own over it). */
  get barrierHandle(): BarrierHandle {
    return Barrier.handleAt(this.#buffer, this.#at + RUN_INFO_BYTES);
  }

  /** Bytes a run of `streams` streams and `lanes` lanes needs whose barrier has room for `parties`. */
  static bytesFor(streams: number, lanes: number, parties = Math.max(1, streams)): number {
    return RUN_INFO_BYTES + Barrier.bytesFor(parties) + Math.ceil(runWordBytes(streams, lanes) / 8) * 8;
  }

  /** Lays out a fresh run in a buffer of its own. */
  static create(info: RunInfo): RunMemory {
    const parties = Math.max(1, info.streams);
    const arena = new Arena(RunMemory.bytesFor(info.streams, info.lanes));
    arena.allocate(RUN_INFO_BYTES);
    const barrier = new Barrier(parties, { arena });
    writeInfo(arena.buffer, 0, info, arena.allocate(runWordBytes(info.streams, info.lanes)).byteOffset);
    return new RunMemory(arena.buffer, arena.buffer, barrier);
  }

  /**
   * A fresh run in memory another run used (a slab block at byte `at`, whose barrier has room
   * for `parties`, `memory-pool.ts`): every byte is zeroed, the barrier written anew for the
   * run's streams and the info for the run. Only for memory no thread can touch any more.
   */
  static renew(slab: SharedArrayBuffer, at: number, parties: number, info: RunInfo): RunMemory {
    const wordsAt = RUN_INFO_BYTES + Barrier.bytesFor(parties);
    new Uint8Array(slab, at, wordsAt + runWordBytes(info.streams, info.lanes)).fill(0);
    Barrier.renew(Barrier.handleAt(slab, at + RUN_INFO_BYTES), Math.max(1, info.streams));
    writeInfo(slab, at, info, wordsAt);
    return new RunMemory(at, slab, undefined);
  }

  /** The same memory from what a task names it by (in a worker); `slab` is the coordinator's run slab. */
  static from(ref: RunRef, slab: SharedArrayBuffer): RunMemory {
    return new RunMemory(ref, typeof ref === 'number' ? slab : ref, undefined);
  }

  /** Reads a slot field. */
  get(index: number, field: number): number {
    return atomics.load(this.words, slotWord(index, field));
  }

  /** Writes a slot field. */
  set(index: number, field: number, value: number): void {
    atomics.store(this.words, slotWord(index, field), value);
  }

  /** Claims the next stream for a lane (worker side): its index, or -1 when none is left. */
  claim(): number {
    const index = atomics.add(this.words, CLAIMS, 1);
    return index < this.streams ? index : -1;
  }

  /** Streams claimed so far (one per index below it). */
  claimed(): number {
    return Math.min(atomics.load(this.words, CLAIMS), this.streams);
  }

  /** Ends claiming (a cancelled run); returns how many streams had been claimed. */
  closeClaims(): number {
    return Math.min(atomics.exchange(this.words, CLAIMS, CLOSED), this.streams);
  }

  /** The stream lane `lane` runs now, or -1 between streams (-2 before its task reached a thread). */
  current(lane: number): number {
    return atomics.load(this.words, this.#laneWord(lane)) - 1;
  }

  /** Records the stream lane `lane` runs now (-1: none; -2: not started, set by the coordinator). */
  setCurrent(lane: number, index: number): void {
    atomics.store(this.words, this.#laneWord(lane), index + 1);
  }

  #laneWord(lane: number): number {
    return HEADER_WORDS + this.streams * SLOT_WORDS + lane;
  }

  /** Readies stream `index`'s slot for a new attempt (coordinator, before dispatch). */
  resetSlot(index: number, attempt: number, cancel: number): void {
    this.set(index, STATE, QUEUED);
    // Zero until the attempt's worker writes its own: a lost attempt's thread is never a stale one.
    this.set(index, THREAD, 0);
    this.set(index, ATTEMPT, attempt);
    this.set(index, HEARTBEAT, 0);
    this.set(index, STARTED, 0);
    this.set(index, PROGRESS, 0);
    this.set(index, CP_SEEN, 0);
    this.set(index, PARKED, 0);
    this.set(index, WAITS_ON, 0);
    this.set(index, CANCEL, cancel);
  }

  /** Epoch ms of stream `index`'s last heartbeat, or undefined if it never beat. */
  lastHeartbeat(index: number): number | undefined {
    return instantOf(this.epochMs, this.get(index, HEARTBEAT));
  }

  /** Epoch ms when stream `index`'s current attempt called the stream function, if it has. */
  startedAt(index: number): number | undefined {
    return instantOf(this.epochMs, this.get(index, STARTED));
  }

  /** Stores the current time into a time field of stream `index` (worker side). */
  stamp(index: number, field: number): void {
    this.set(index, field, offsetFrom(this.epochMs));
  }

  /** Progress of stream `index`, 0..1. */
  progress(index: number): number {
    return this.get(index, PROGRESS) / PROGRESS_SCALE;
  }

  /** What stream `index` is parked on (RUN_BARRIER, CHECKPOINT, OTHER), or 0 when it is not parked. */
  waitsOn(index: number): number {
    return this.get(index, PARKED) > 0 ? this.get(index, WAITS_ON) : 0;
  }
}

/** Writes a run's info at byte `at` of `buffer`, its words lying `wordsAt` bytes further. */
function writeInfo(buffer: SharedArrayBuffer, at: number, info: RunInfo, wordsAt: number): void {
  const words = new Float64Array(buffer, at, INFO_WORDS);
  words[INFO.runId] = info.runId;
  words[INFO.streams] = info.streams;
  words[INFO.lanes] = info.lanes;
  words[INFO.epochMs] = info.epochMs;
  words[INFO.checkpointIntervalMs] = info.checkpointIntervalMs;
  words[INFO.wordsAt] = wordsAt;
}
