/** What a run is given: the coordinator's runtime, its convergence and its policy. */
import type { ProcessLocks } from '../fs/process-locks.js';
import type { ConvergenceType } from './convergence/index.js';
import type { RunMemoryPool } from './memory-pool.js';
import type { ResidentLanes } from './residents.js';
import type { AttemptTimes } from './metrics.js';
import type { StreamRegistry } from './registry.js';
import type { Scheduler } from './scheduler.js';
import type { Supervision } from './supervisor.js';
import type { Tracer } from './tracer.js';
import type { StreamResult } from './types.js';

/** What a coordinator lends each of its runs. */
export interface RunRuntime {
  /** The pool's gate: resident lanes for single streams, `runTask` for every other pool task. */
  readonly residents: ResidentLanes;
  readonly scheduler: Scheduler;
  readonly registry: StreamRegistry;
  readonly processLocks: ProcessLocks;
  readonly tracer: Tracer | undefined;
  /** A fresh directory for an attempt of stream `id`, or undefined when isolation is off. */
  readonly directoryFor: (id: string) => string | undefined;
  /** Threads end after this many attempts (`maxStreamsPerThread`), if set. */
  readonly retireAfter: number | undefined;
  /** Whether each attempt gets a directory of its own (then every attempt is a task of its own). */
  readonly isolated: boolean;
  /** Threads that run unparked streams. */
  readonly maxThreads: number;
  /** Lanes a laned run may start at most: every thread, spares included. */
  readonly maxLanes: number;
  /** Where ended attempts' wait and run times go (`coordinator.metrics()`). */
  readonly attemptTimes: AttemptTimes;
  /** Memory of finished small runs, for the next ones. */
  readonly memoryPool: RunMemoryPool;
  /** Releases what stream `id` holds in coordinator-wide pools (resource grants). */
  readonly releaseHoldings: (id: string) => Promise<unknown> | undefined;
}

/** How the run converges. */
export interface RunConvergence {
  readonly type: ConvergenceType;
  readonly intervalMs: number;
  readonly callback: ((event: never) => unknown) | undefined;
}

/** How the run treats time, cancellation and stuck streams. */
export interface RunPolicy {
  readonly cancelGraceMs: number;
  readonly signal: AbortSignal | undefined;
  /** Budget of the whole run, if any. */
  readonly timeoutMs: number | undefined;
  readonly supervision: Supervision | undefined;
  /** Also hears of each result as it settles (the `stream()` iterator). */
  readonly sink: ((result: StreamResult) => void) | undefined;
}
