/**
 * `coordinator.metrics()`: what the pool has done and how long stream attempts waited and ran.
 * The coordinator times attempts itself, from the slots' start stamps: a laned run
 * (`lanes.ts`) runs many attempts in one pool task, so Piscina's per-task figures would count
 * lanes, not attempts.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/** A distribution of durations, in milliseconds. */
export interface TimeSummary {
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** A snapshot of a coordinator's pool. */
export interface CoordinatorMetrics {
  /** Worker threads alive now (spares included). */
  readonly threads: number;
  /** Stream attempts started and not yet settled (running or parked). */
  readonly running: number;
  /** Stream attempts waiting for a thread. */
  readonly queued: number;
  /** Attempts that have ended since the coordinator started. */
  readonly completed: number;
  /** Fraction of the pool's capacity spent running tasks since it started (Piscina's measure). */
  readonly utilization: number;
  /** How long attempts ran: from calling the stream function to the coordinator hearing how it ended. */
  readonly runTime: TimeSummary;
  /** How long attempts waited to start: queue time and module loading, never counted against timeoutMs. */
  readonly waitTime: TimeSummary;
}

/** Wait and run times of ended attempts, recorded in microseconds (a histogram takes integers >= 1). */
export class AttemptTimes {
  readonly #wait: RecordableHistogram = createHistogram();
  readonly #run: RecordableHistogram = createHistogram();
  #completed = 0;

  /** An attempt ended after waiting `waitMs` and running `runMs` (both undefined if its stream function was never called). */
  record(waitMs: number | undefined, runMs: number | undefined): void {
    this.#completed++;
    if (waitMs !== undefined) this.#wait.record(micros(waitMs));
    if (runMs !== undefined) this.#run.record(micros(runMs));
  }

  /** Attempts ended so far. */
  get completed(): number {
    return this.#completed;
  }

  /** The waits so far, in ms. */
  waitTime(): TimeSummary {
    return summary(this.#wait);
  }

  /** The running times so far, in ms. */
  runTime(): TimeSummary {
    return summary(this.#run);
  }
}

function micros(ms: number): number {
  return Math.max(1, Math.round(ms * 1000));
}

function summary(h: RecordableHistogram): TimeSummary {
  if (h.count === 0) return EMPTY;
  return { mean: h.mean / 1000, p50: h.percentile(50) / 1000, p90: h.percentile(90) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 };
}

const EMPTY: TimeSummary = { mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };
