/**
 * `coordinator.metrics()`: what the pool has done and how long streams waited for a thread.
 * Run times come from Piscina's histogram (time in the worker); wait times are the
 * scheduler's own (Piscina's queue stays empty: streams wait in ours).
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
  /** Stream attempts holding a thread now (running or parked). */
  readonly running: number;
  /** Stream attempts waiting for a thread. */
  readonly queued: number;
  /** Attempts the pool has finished since it started. */
  readonly completed: number;
  /** Fraction of the pool's capacity spent running attempts since it started (Piscina's measure). */
  readonly utilization: number;
  /** How long attempts ran in their worker. */
  readonly runTime: TimeSummary;
  /** How long attempts waited for a thread (queue time, never counted against timeoutMs). */
  readonly waitTime: TimeSummary;
}

/** Queue waits, recorded in microseconds (a histogram takes integers >= 1). */
export class WaitTimes {
  readonly #histogram: RecordableHistogram = createHistogram();

  /** Records a wait of `ms`. */
  record(ms: number): void {
    this.#histogram.record(Math.max(1, Math.round(ms * 1000)));
  }

  /** The waits so far, in ms. */
  summary(): TimeSummary {
    const h = this.#histogram;
    if (h.count === 0) return EMPTY;
    return { mean: h.mean / 1000, p50: h.percentile(50) / 1000, p90: h.percentile(90) / 1000, p99: h.percentile(99) / 1000, max: h.max / 1000 };
  }
}

const EMPTY: TimeSummary = { mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };

/** The fields of Piscina's run-time summary this reports (ms), or zeros before the first task. */
export function runTimeSummary(summary: Partial<TimeSummary> | undefined): TimeSummary {
  if (summary === undefined) return EMPTY;
  const { mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0 } = summary;
  // A histogram without records reports its max as 0 and its mean as NaN.
  return Number.isFinite(mean) ? { mean, p50, p90, p99, max } : EMPTY;
}
