/** A stream as its run tracks it across attempts, what the run's policy says of stopping streams, and a run's head count. */
import type { Job } from './scheduler.js';
import type { RunPolicy } from './run-settings.js';
import type { StreamErrorInfo, StreamStatus } from './types.js';
import type { CheckedSpec } from './validate.js';

/** One stream of a run. */
export interface Stream {
  readonly spec: CheckedSpec;
  readonly index: number;
  attempt: number;
  /** Its current attempt's scheduler job; undefined in a lane (`lanes.ts`). */
  job: Job | undefined;
  controller: AbortController | undefined;
  settled: boolean;
  /** How it ends once its attempt stops, when it was cancelled or timed out. */
  ending: { readonly status: Exclude<StreamStatus, 'complete'>; readonly error: StreamErrorInfo } | undefined;
  details: unknown;
  readonly queuedAt: number;
  /** When its current attempt was queued. */
  dispatchedAt: number;
  startedAt: number | undefined;
  /** Clears the attempt's running-time budget and its termination grace. */
  disarm: (() => void) | undefined;
}

/** Stream `index` of a run queued at `at`, before its first attempt. */
export function newStream(spec: CheckedSpec, index: number, at: number): Stream {
  return {
    spec,
    index,
    attempt: 1,
    job: undefined,
    controller: undefined,
    settled: false,
    ending: undefined,
    details: undefined,
    queuedAt: at,
    dispatchedAt: at,
    startedAt: undefined,
    disarm: undefined,
  };
}

/** Whether single streams of a run may be stopped while the others go on (supervision, a stream timeout). */
export function stopsOneByOne(specs: readonly CheckedSpec[], p: RunPolicy): boolean {
  return p.supervision !== undefined || specs.some((s) => s.timeoutMs !== undefined);
}

/** How many of a run's unsettled streams have started, and how many wait to. */
export interface Census {
  readonly running: number;
  readonly queued: number;
}

/** Counts `streams`: a laned one has started once claimed (index below `claimed`), any other when its job holds a thread. */
export function census(streams: readonly Stream[], claimed: number, isStarted: (job: Job) => boolean): Census {
  let running = 0;
  let queued = 0;
  for (const s of streams) {
    if (s.settled) continue;
    const started = s.job === undefined ? s.index < claimed : isStarted(s.job);
    if (started) running++;
    else queued++;
  }
  return { running, queued };
}
