/**
 * The regression gate of `check`: each gated metric of this run against the baseline's. A
 * metric regresses only when its median is worse than the baseline's by more than its
 * tolerance AND a Mann-Whitney U test on the two sets of per-round samples says the
 * difference is real. Worse past tolerance without significance is `noisy`: the caller
 * re-measures once before deciding.
 */
import { mannWhitneyU } from '../stats/index.js';
import type { BenchResult, Metric, RunReport } from './result.js';

/** Significance level of the test that must back a regression. */
export const ALPHA = 0.05;

/** What the gate decided for one metric. */
export type GateStatus = 'ok' | 'noisy' | 'regressed' | 'new';

/** One metric's verdict. */
export interface GateRow {
  readonly bench: string;
  readonly metric: Metric;
  readonly baseline?: Metric;
  /** Relative change in the worse direction (0.1 = 10% worse; negative = better). */
  readonly worse: number;
  readonly p: number;
  readonly status: GateStatus;
}

/** Whether absolute wall times are gated too (off by default: a busy machine fakes them). */
export interface GateOptions {
  readonly absolute: boolean;
}

/** Judges every gated metric of `bench` against its namesake in `baseline`. */
export function gateBench(bench: BenchResult, baseline: RunReport | undefined, options: GateOptions): GateRow[] {
  const before = baseline?.benches.find((b) => b.name === bench.name);
  return bench.metrics
    .filter((m) => m.gated !== false && (options.absolute || !m.absolute))
    .map((metric): GateRow => {
      const base = before?.metrics.find((m) => m.id === metric.id);
      if (base === undefined) return { bench: bench.name, metric, worse: 0, p: 1, status: 'new' };
      return { bench: bench.name, metric, baseline: base, ...judgeMetric(base, metric) };
    });
}

/**
 * The relative worsening of `now` against `base`, its p-value, and the status it earns. The
 * tolerance is `now`'s: the bench file's current word, so changing it needs no new baseline.
 */
export function judgeMetric(base: Metric, now: Metric): { worse: number; p: number; status: GateStatus } {
  const worse = base.better === 'higher' ? (base.value - now.value) / base.value : (now.value - base.value) / base.value;
  const p = mannWhitneyU(base.samples, now.samples).p;
  const status: GateStatus = worse <= now.tolerance ? 'ok' : p < ALPHA ? 'regressed' : 'noisy';
  return { worse, p, status };
}
