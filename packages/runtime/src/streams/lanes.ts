/**
 * Lanes: many streams of one run per pool task. A laned run sends its specs once per lane
 * (one Piscina task holding a thread) instead of one task per stream; each lane claims the
 * run's streams one at a time from the run's shared claim counter (`Atomics.add`, the
 * self-scheduling of OpenMP's `dynamic` loops) and posts each outcome as its stream settles
 * (`lane-worker.ts`), so results stay progressive while the pool's per-task cost is paid once
 * per lane. A stream that parks holds no batch-mate: the unclaimed ones go to the other lanes,
 * and the scheduler starts another lane when a lane's stream parks (compensation), exactly as
 * it starts another stream in an unlaned run.
 *
 * Which runs are laned ({@link laneCount}): those whose streams are never stopped one
 * by one while the others go on (no supervision, no stream timeout), move nothing, are not
 * traced, isolated or recycled, and have more streams than threads with inputs small enough
 * to copy once per lane. Every other run sends one task per attempt. A laned run is stopped
 * only as a whole (its signal, its timeout, a consumer leaving `stream()`, a failed callback,
 * `close()`): that closes the claim counter, so the unclaimed streams settle at once, the
 * claimed ones are told through their cancel word, and after the grace every lane still
 * running has its thread terminated ({@link Lanes.stopAll}).
 *
 * Each lane posts its outcomes on a port of its own, then a last message when it is done; if
 * its thread dies first the port closes with it, after every message posted before (Node
 * delivers a dead thread's messages). A lane is over when its task has settled and its port
 * is drained (the last message, or the close): then every outcome it posted has arrived. A
 * lane whose task failed (its thread died) fails the stream its CURRENT word names, if that
 * one has not settled. When every lane is over, unclaimed streams get a new lane, and a
 * claimed stream that never settled (its thread died between claiming it and recording the
 * claim) fails. The open ports also keep the process alive while outcomes are on their way.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { StreamError } from '../shared/errors.js';
import type { RunMemory } from './layout.js';
import type { ResidentLanes } from './residents.js';
import type { RunPolicy, RunRuntime } from './run-settings.js';
import { stopsOneByOne } from './run-stream.js';
import type { Job, Scheduler, ScheduledRun } from './scheduler.js';
import { errorInfo, type LaneMessage, type LaneSpec, type LaneTask, type StreamOutcome } from './task.js';
import type { CheckedSpec } from './validate.js';

/** What a laned run does for its lanes. */
export interface LanedRun extends ScheduledRun {
  /** Stream `index`'s attempt 1 ended with `outcome`. */
  finishLaned(index: number, outcome: StreamOutcome): void;
  /** Whether stream `index` has settled. */
  isSettled(index: number): boolean;
  /** Streams `indices` cannot be laned (their inputs cannot be cloned): start one task per stream. */
  unlane(indices: readonly number[]): void;
  /** Stream `index`'s id. */
  idOf(index: number): string;
}

/** A lane's CURRENT before its task runs in a thread. */
const UNSTARTED = -2;

/**
 * Every lane gets a copy of every input, so a run is laned only when its inputs are light: each
 * at most this big (estimated; a bigger one is worth a task of its own, or a transfer) ...
 */
const MAX_LANED_INPUT_BYTES = 64 << 10;
/** ... all of them at most this big together ... */
const MAX_LANED_RUN_BYTES = 32 << 20;
/** ... and at most this much copied if every lane starts (spare lanes start while others park). */
const MAX_LANED_COPY_BYTES = 256 << 20;

/** How many lanes a run of `specs` gets: 0 when each attempt must be a task of its own. */
export function laneCount(specs: readonly CheckedSpec[], policy: RunPolicy, runtime: RunRuntime): number {
  if (stopsOneByOne(specs, policy) || runtime.tracer !== undefined || runtime.retireAfter !== undefined || runtime.isolated) return 0;
  // One lane more than can run: a lane still queued is how the scheduler sees unclaimed
  // streams (compensation, deadlock reports).
  const lanes = Math.min(specs.length, runtime.maxLanes + 1);
  return laneable(specs, runtime.maxThreads, lanes) ? lanes : 0;
}

/** Whether `specs` are worth laning on `maxThreads` threads and light enough to copy to each of `lanes` lanes. */
function laneable(specs: readonly CheckedSpec[], maxThreads: number, lanes: number): boolean {
  if (specs.length <= maxThreads) return false;
  let budget = Math.min(MAX_LANED_RUN_BYTES, MAX_LANED_COPY_BYTES / lanes);
  for (const spec of specs) {
    if (spec.transfer.length > 0) return false;
    const bytes = estimatedBytes(spec.input, 64);
    budget -= bytes;
    if (bytes > MAX_LANED_INPUT_BYTES || budget < 0) return false;
  }
  return true;
}

/** A rough size of `value` as structured clone copies it; anything too deep or too wide to size cheaply is infinite. */
function estimatedBytes(value: unknown, nodes: number): number {
  if (value === null || value === undefined || typeof value === 'number' || typeof value === 'boolean') return 8;
  if (typeof value === 'string') return value.length * 2;
  if (typeof value === 'bigint') return 16;
  if (ArrayBuffer.isView(value)) return value.buffer instanceof SharedArrayBuffer ? 16 : value.byteLength;
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (value instanceof SharedArrayBuffer) return 16;
  if (typeof value !== 'object' || nodes <= 0) return Number.POSITIVE_INFINITY;
  if ((value instanceof Map || value instanceof Set) && value.size > nodes) return Number.POSITIVE_INFINITY;
  const entries = value instanceof Map ? [...value.keys(), ...value.values()] : value instanceof Set ? [...value] : Array.isArray(value) ? value : Object.values(value);
  if (entries.length > nodes) return Number.POSITIVE_INFINITY;
  let bytes = 16;
  for (const entry of entries) bytes += estimatedBytes(entry, Math.floor(nodes / entries.length) - 1) + 8;
  return bytes;
}

/** The lanes of one laned run. */
export class Lanes {
  readonly #run: LanedRun;
  readonly #memory: RunMemory;
  readonly #pool: ResidentLanes;
  readonly #scheduler: Scheduler;
  readonly #task: Omit<LaneTask, 'lane' | 'port'>;
  readonly #queued = new Set<Job>();
  /** Lanes started and not yet over (task settled and port drained). */
  #live = 0;
  /** Lanes started in all. */
  #started = 0;
  /** Streams claimed when the run was cancelled (claims closed), or undefined while open. */
  #closedAt: number | undefined;
  /** Ends the threads of the lanes running now; one per live lane. */
  readonly #terminators = new Set<AbortController>();
  #stopTimer: NodeJS.Timeout | undefined;

  constructor(run: LanedRun, specs: readonly CheckedSpec[], pool: ResidentLanes, scheduler: Scheduler) {
    this.#run = run;
    this.#memory = run.memory;
    this.#pool = pool;
    this.#scheduler = scheduler;
    const modules: (string | undefined)[] = [];
    const moduleIndex = new Map<string | undefined, number>();
    const laneSpecs = specs.map((spec): LaneSpec => {
      let module = moduleIndex.get(spec.task);
      if (module === undefined) {
        module = modules.push(spec.task) - 1;
        moduleIndex.set(spec.task, module);
      }
      return { id: spec.id, module, exportName: spec.exportName, input: spec.input, durationMs: spec.durationMs };
    });
    this.#task = { run: run.memory.ref, modules, specs: laneSpecs };
  }

  /** Queues every lane with the scheduler; the first ones start at once. */
  start(): void {
    for (let lane = 0; lane < this.#memory.lanes; lane++) this.#submit(lane);
  }

  /** Streams claimed by a lane so far (claimed ones run or ran; the others are queued). */
  get claimed(): number {
    return this.#closedAt ?? this.#memory.claimed();
  }

  /**
   * Takes stream `index` back if no lane has claimed it. The first call closes the claim
   * counter for the whole run (a laned run is only stopped as a whole) and withdraws the
   * lanes not yet started.
   */
  withdraw(index: number): boolean {
    return index >= this.#close();
  }

  /** Closes the claim counter once and withdraws the lanes not yet started; returns how many streams were claimed. */
  #close(): number {
    if (this.#closedAt === undefined) {
      this.#closedAt = this.#memory.closeClaims();
      this.#withdrawQueued();
    }
    return this.#closedAt;
  }

  /**
   * Stops the whole run: closes the claim counter and, after `graceMs` (at once for 0),
   * terminates the thread of every lane still running (their streams were told to stop
   * through their cancel words; whatever they posted before still arrives). Idempotent: a
   * later call can only make the termination come sooner.
   */
  stopAll(graceMs: number, reason: unknown): void {
    this.#close();
    const terminate = (): void => {
      for (const terminator of this.#terminators) terminator.abort(reason);
    };
    if (graceMs === 0) {
      clearTimeout(this.#stopTimer);
      terminate();
    } else {
      this.#stopTimer ??= setTimeout(terminate, graceMs);
    }
  }

  /** The run has ended: lanes still queued are not needed. Returns how many lanes were started. */
  end(): number {
    clearTimeout(this.#stopTimer);
    this.#withdrawQueued();
    return this.#started;
  }

  #withdrawQueued(): void {
    for (const job of this.#queued) this.#scheduler.withdraw(job);
    this.#queued.clear();
  }

  #submit(lane: number): void {
    const memory = this.#memory;
    const run = this.#run;
    const job: Job = {
      run,
      // The stream it runs, or (queued or between streams) the ones still unclaimed.
      get streamId() {
        const index = memory.current(lane);
        if (index >= 0) return run.idOf(index);
        const next = memory.claimed();
        const left = memory.streams - next;
        return left <= 0 ? 'no stream left' : left === 1 ? run.idOf(next) : `${run.idOf(next)} and ${left - 1} more unclaimed`;
      },
      waitsOn: () => {
        const index = memory.current(lane);
        return index < 0 ? 0 : memory.waitsOn(index);
      },
      start: () => this.#startLane(lane, job),
    };
    this.#queued.add(job);
    this.#scheduler.submit(job);
  }

  #startLane(lane: number, job: Job): void {
    this.#queued.delete(job);
    if (this.#closedAt !== undefined || this.#memory.claimed() >= this.#memory.streams) {
      // Nothing left to claim: give the thread back without a task (not from inside the scheduler's pump).
      queueMicrotask(() => this.#scheduler.finished(job));
      return;
    }
    this.#live++;
    this.#started++;
    let failure: { error: unknown } | undefined;
    let waiting = 2;
    const over = (): void => {
      if (--waiting > 0) return;
      this.#live--;
      if (failure !== undefined) this.#failed(lane, failure.error);
      this.#sweep();
    };
    const { port, drain } = outcomePort((index, outcome) => this.#run.finishLaned(index, outcome), over);
    // Until the lane runs in a thread: a task that never reaches one leaves its port here.
    this.#memory.setCurrent(lane, UNSTARTED);
    const terminator = new AbortController();
    this.#terminators.add(terminator);
    const task: LaneTask = { ...this.#task, lane, port };
    this.#pool.runTask(task, { transferList: [port], signal: terminator.signal }).finally(() => this.#terminators.delete(terminator)).then(
      () => {
        this.#scheduler.finished(job);
        over();
      },
      (error: unknown) => {
        this.#scheduler.finished(job);
        failure = { error };
        // A task that never reached a thread (an input that cannot be cloned, a lane aborted
        // while Piscina still queued it) leaves its port here: nothing will come through it.
        if (this.#memory.current(lane) === UNSTARTED) drain();
        over();
      },
    );
  }

  #failed(lane: number, error: unknown): void {
    // The task never reached a thread: some input cannot be cloned. Every lane carries the
    // same inputs, so no stream was claimed; each runs as a task of its own and fails alone.
    if (isCloneError(error) && this.#closedAt === undefined && this.#memory.claimed() === 0) {
      const from = this.#close();
      const indices = Array.from({ length: this.#memory.streams - from }, (_, i) => from + i);
      this.#run.unlane(indices);
      return;
    }
    const index = this.#memory.current(lane);
    this.#memory.setCurrent(lane, -1);
    if (index >= 0 && !this.#run.isSettled(index)) this.#run.finishLaned(index, { ok: false, error: errorInfo(error) });
  }

  /** Once every lane is over: unclaimed streams get a new lane; claimed ones lost with a thread fail. */
  #sweep(): void {
    if (this.#live > 0 || this.#queued.size > 0) return;
    const streams = this.#memory.streams;
    if (this.#closedAt === undefined && this.#memory.claimed() < streams) {
      this.#submit(0);
      return;
    }
    const claimed = this.claimed;
    for (let index = 0; index < claimed; index++) {
      if (this.#run.isSettled(index)) continue;
      const lost = new StreamError(`stream ${this.#run.idOf(index)}'s worker thread ended before the stream could report; run it again`);
      this.#run.finishLaned(index, { ok: false, error: errorInfo(lost) });
    }
  }
}

function isCloneError(error: unknown): boolean {
  return error instanceof Error && error.name === 'DataCloneError';
}

/**
 * A lane's outcome port: outcomes go to `onOutcome`, and `onDrained` is called once, when the
 * lane's last message or the port's close (its thread died) arrives. Returns the end to send
 * to the lane, and `drain` for a lane whose task never reached a thread.
 */
function outcomePort(onOutcome: (index: number, outcome: StreamOutcome) => void, onDrained: () => void): { port: MessagePort; drain: () => void } {
  const { port1, port2 } = new MessageChannel();
  let drained = false;
  const drain = (): void => {
    if (drained) return;
    drained = true;
    // Closed here too: an open port keeps the process alive.
    port1.close();
    onDrained();
  };
  port1.on('message', (message: LaneMessage) => {
    if (message.index < 0) drain();
    else if ('outcome' in message) onOutcome(message.index, message.outcome);
  });
  port1.once('close', drain);
  return { port: port2, drain };
}
