/**
 * A stream's worker tells the coordinator when the stream parks and wakes, through its slot:
 * PARKED counts the waits it is parked in, WAITS_ON says what the latest one waits on, and
 * PARK_EVENTS (run header) is bumped on every change so the coordinator's scheduler, parked
 * on it, looks again. That is how a parked stream gives its core back (compensation) and how
 * a run whose streams all wait on each other is found deadlocked.
 */
import * as atomics from '../shared/atomics.js';
import type { WaitableArray } from '../shared/atomics.js';
import type { ParkObserver } from '../shared/wait.js';
import { CHECKPOINT, OTHER, PARK_EVENTS, PARKED, RUN_BARRIER, WAITS_ON, slotWord, type RunMemory } from './layout.js';

/** What the observer needs of the stream's context. */
interface Beating {
  heartbeat(): void;
  readonly inCheckpoint: boolean;
}

/** The {@link ParkObserver} of one stream attempt. */
export class StreamParkObserver implements ParkObserver {
  readonly #words: Int32Array;
  readonly #parkedWord: number;
  readonly #waitsOnWord: number;
  readonly #runBuffer: ArrayBufferLike;
  readonly #ctx: Beating;
  readonly #beat: boolean;
  #open = true;

  constructor(memory: RunMemory, index: number, ctx: Beating, beatWhileParked: boolean) {
    this.#words = memory.words;
    this.#parkedWord = slotWord(index, PARKED);
    this.#waitsOnWord = slotWord(index, WAITS_ON);
    this.#runBuffer = memory.words.buffer;
    this.#ctx = ctx;
    this.#beat = beatWhileParked;
  }

  parked(view: WaitableArray): void {
    if (!this.#open) return;
    // Only the run's barrier and checkpoints live in the run's memory.
    const on = this.#ctx.inCheckpoint ? CHECKPOINT : view.buffer === this.#runBuffer ? RUN_BARRIER : OTHER;
    atomics.store(this.#words, this.#waitsOnWord, on);
    atomics.add(this.#words, this.#parkedWord, 1);
    this.#changed();
  }

  sliced(): void {
    if (this.#open && this.#beat) this.#ctx.heartbeat();
  }

  woke(): void {
    if (!this.#open) return;
    atomics.sub(this.#words, this.#parkedWord, 1);
    this.#changed();
  }

  /** The attempt is over: waits it abandoned (async ones can outlive it) no longer count. */
  close(): void {
    this.#open = false;
    if (atomics.load(this.#words, this.#parkedWord) === 0) return;
    atomics.store(this.#words, this.#parkedWord, 0);
    this.#changed();
  }

  #changed(): void {
    atomics.add(this.#words, PARK_EVENTS, 1);
    atomics.notify(this.#words, PARK_EVENTS);
  }
}
