/**
 * The coordinator's scheduler: which queued stream attempt gets a thread, and when.
 *
 * `maxThreads` bounds the streams that *run*, not the ones that *wait*. A stream parked in a
 * Tributary wait gives its core back (compensation, as in Java's `ForkJoinPool.managedBlock`
 * and Go's hand-off of a blocked goroutine's P): while fewer than `maxThreads` started
 * attempts are unparked, the next queued attempt starts, on a spare thread if need be, up to
 * `maxThreads + maxSpareThreads` threads. Plain CPU-bound runs never park, so they never use
 * more than `maxThreads` threads. Attempts start in submission order (FIFO across runs).
 *
 * Parks are reported by the workers through their run's memory (`park-observer.ts`); while
 * attempts are queued, the scheduler parks asynchronously on each busy run's PARK_EVENTS word.
 *
 * **Deadlock.** When every started attempt is parked at its run's own barrier, no thread is
 * left to start a queued one, and nothing has moved for {@link DEADLOCK_GRACE_MS}, no stream
 * can ever make progress: the runs involved are told (they break their barrier and fail their
 * streams with `DeadlockError`), like Go's "all goroutines are asleep", but recoverable.
 */
import * as atomics from '../shared/atomics.js';
import { now } from '../shared/clock.js';
import { PARK_EVENTS, RUN_BARRIER, type RunMemory } from './layout.js';

/** How long a suspected deadlock must hold still before it is declared. */
export const DEADLOCK_GRACE_MS = 100;
/** How often a blocked scheduler looks again even if no park event came. */
const PROBE_MS = DEADLOCK_GRACE_MS / 2;
/** Ids named in a deadlock message before "and N more". */
const NAMED_IDS = 8;

/** A run, as the scheduler sees it. */
export interface ScheduledRun {
  readonly id: number;
  readonly memory: RunMemory;
  /** No stream of this run can progress: break its waits with `report`. */
  deadlocked(report: string): void;
}

/** One stream attempt (or one lane of a run, `lanes.ts`) waiting for, or holding, a thread. */
export interface Job {
  readonly run: ScheduledRun;
  /** The stream it runs now, for deadlock reports. */
  readonly streamId: string;
  /** What that stream is parked on now (RUN_BARRIER, CHECKPOINT, OTHER), or 0. */
  waitsOn(): number;
  /** Starts the attempt on the pool (called once, when it gets a thread). */
  start(): void;
}

/** Thread limits. */
export interface SchedulerLimits {
  readonly maxThreads: number;
  readonly maxSpareThreads: number;
}

/** Hands threads to stream attempts. */
export class Scheduler {
  readonly #limits: SchedulerLimits;
  // FIFO of submitted jobs from #head on; a withdrawn job stays in the array but leaves #queued.
  #queue: Job[] = [];
  #head = 0;
  readonly #queued = new Set<Job>();
  readonly #started = new Set<Job>();
  readonly #watched = new Set<RunMemory>();
  #suspect: { readonly signature: number; readonly since: number } | undefined;

  constructor(limits: SchedulerLimits) {
    this.#limits = limits;
  }

  /** Whether `job` holds a thread now. */
  isStarted(job: Job): boolean {
    return this.#started.has(job);
  }

  /** Queues `job`; it starts as soon as a thread may take it. */
  submit(job: Job): void {
    this.#queue.push(job);
    this.#queued.add(job);
    this.pump();
  }

  /** Takes `job` out of the queue if it has not started; returns whether it was queued. */
  withdraw(job: Job): boolean {
    return this.#queued.delete(job);
  }

  /** `job`'s attempt ended (or was abandoned): its thread is free. */
  finished(job: Job): void {
    if (this.#started.delete(job)) this.pump();
  }

  /** Starts every queued attempt the limits allow now. */
  pump(): void {
    const { maxThreads, maxSpareThreads } = this.#limits;
    while (this.#queued.size > 0) {
      if (this.#started.size >= maxThreads + maxSpareThreads) break;
      // Counting is cheap next to starting a task: at most maxThreads + maxSpareThreads loads.
      if (this.#started.size >= maxThreads && this.#unparked() >= maxThreads) break;
      const job = this.#queue[this.#head++]!;
      if (!this.#queued.delete(job)) continue;
      this.#started.add(job);
      job.start();
    }
    this.#compact();
    if (this.#queued.size > 0) this.#blocked();
    else this.#suspect = undefined;
  }

  #unparked(): number {
    let unparked = 0;
    for (const job of this.#started) if (job.waitsOn() === 0) unparked++;
    return unparked;
  }

  #compact(): void {
    if (this.#queued.size === 0) {
      if (this.#queue.length > 0) this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  /** Queued attempts wait: watch the busy runs for parks, and look for a deadlock. */
  #blocked(): void {
    for (const job of this.#started) {
      const memory = job.run.memory;
      if (!this.#watched.has(memory)) void this.#watch(memory);
    }
    this.#checkDeadlock();
  }

  /** Re-pumps whenever a stream of `memory`'s run parks or wakes, while attempts are queued. */
  async #watch(memory: RunMemory): Promise<void> {
    this.#watched.add(memory);
    try {
      while (this.#queued.size > 0 && this.#busy(memory)) {
        const seen = atomics.load(memory.words, PARK_EVENTS);
        const parked = atomics.waitAsync(memory.words, PARK_EVENTS, seen, PROBE_MS);
        if (parked.async) await parked.value;
        this.pump();
      }
    } finally {
      this.#watched.delete(memory);
    }
  }

  #busy(memory: RunMemory): boolean {
    for (const job of this.#started) if (job.run.memory === memory) return true;
    return false;
  }

  #checkDeadlock(): void {
    const { maxThreads, maxSpareThreads } = this.#limits;
    const stuck = this.#started.size >= maxThreads + maxSpareThreads && [...this.#started].every((j) => j.waitsOn() === RUN_BARRIER);
    if (!stuck || this.#started.size === 0) {
      this.#suspect = undefined;
      return;
    }
    // Any park or wake since the suspicion began changes the signature: then it is no deadlock yet.
    let signature = 0;
    for (const memory of new Set([...this.#started].map((j) => j.run.memory))) signature += atomics.load(memory.words, PARK_EVENTS);
    if (this.#suspect?.signature !== signature) {
      this.#suspect = { signature, since: now() };
      return;
    }
    if (now() - this.#suspect.since < DEADLOCK_GRACE_MS) return;
    this.#suspect = undefined;
    const report = this.#report();
    for (const run of new Set([...this.#started].map((j) => j.run))) run.deadlocked(report);
  }

  #report(): string {
    const { maxThreads, maxSpareThreads } = this.#limits;
    const queued = [...this.#queued];
    return (
      `deadlock: no stream can make progress. Waiting at their run's ctx.barrier: ${names([...this.#started])}; ` +
      `queued with no thread to start on: ${names(queued)}. All ${maxThreads + maxSpareThreads} threads ` +
      `(maxThreads ${maxThreads} + maxSpareThreads ${maxSpareThreads}) are parked. Raise maxSpareThreads by at least ${queued.length}, ` +
      `or have fewer streams meet at one barrier than there are threads`
    );
  }
}

function names(jobs: readonly Job[]): string {
  // Queued lanes of one run name the same unclaimed streams: each name once.
  const all = [...new Set(jobs.map((j) => `${j.streamId} (run ${j.run.id})`))];
  const ids = all.slice(0, NAMED_IDS);
  return all.length > NAMED_IDS ? `${ids.join(', ')} and ${all.length - NAMED_IDS} more` : ids.join(', ');
}
