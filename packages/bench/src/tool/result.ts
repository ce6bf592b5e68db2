/**
 * The result of a run, as written by `--json` and read back by `check --baseline`: one
 * versioned schema with the raw samples, so a baseline can be re-tested statistically.
 */
import type { Environment } from './env.js';
import type { MedianCI } from '../stats/index.js';

/** Schema id of {@link RunReport}; bumped on incompatible changes. */
export const SCHEMA = 'tributary-bench/1';

/** A runner of a bench. */
export type RunnerName = 'sequential' | 'piscina' | 'tributary';

/** How people read a runner's name. */
export const RUNNER_LABEL: Record<RunnerName, string> = { sequential: 'sequential', piscina: 'raw Piscina', tributary: 'Tributary' };

/** One runner at one thread count. */
export interface RunnerResult {
  readonly runner: RunnerName;
  /** Wall time of one whole run (every input once), ms, per timed round. */
  readonly samples: readonly number[];
  readonly wallMs: MedianCI;
  /** Median of the rounds' sequential / this runner (absent without the sequential baseline). */
  readonly speedup?: number;
  /** speedup / threads. */
  readonly efficiency?: number;
  /** The seed's (parallel - sequential / threads) / parallel, median of the rounds. */
  readonly seedOverhead?: number;
  /** Karp-Flatt serial fraction from the median speedup (absent on one thread). */
  readonly karpFlatt?: number;
}

/** A gateable figure: its direction, unit, tolerance and per-round samples. */
export interface Metric {
  /** Stable within a bench, e.g. `2t.speedup`. */
  readonly id: string;
  readonly description: string;
  /** Whether a higher or a lower value is better. */
  readonly better: 'higher' | 'lower';
  readonly unit: 'x' | 'ms';
  /** Relative change past which the gate looks at it: 0.2 = 20% worse. */
  readonly tolerance: number;
  /** Absolute times are only gated with `--absolute`; same-run ratios always. */
  readonly absolute: boolean;
  /** False for a figure its bench reports but does not gate (absent in older files: gated). */
  readonly gated?: boolean;
  readonly value: number;
  readonly samples: readonly number[];
}

/** One thread count of a bench. */
export interface ThreadResult {
  readonly threads: number;
  readonly runners: readonly RunnerResult[];
  /** Median of the rounds' Tributary / raw Piscina wall time (absent without Piscina). */
  readonly tributaryVsPiscina?: number;
}

/** One figure of a figure bench, over its rounds. */
export interface FigureResult {
  readonly id: string;
  readonly name: string;
  readonly subject: string;
  readonly baseline: string;
  readonly unit: string;
  /** Medians of the rounds' values. */
  readonly subjectValue: number;
  readonly baselineValue: number;
  /** subject / baseline per round, and their median with its 95% CI. */
  readonly samples: readonly number[];
  readonly ratio: MedianCI;
  readonly target?: number;
}

interface BenchResultBase {
  readonly name: string;
  readonly file: string;
  readonly rounds: number;
  readonly warmup: number;
  readonly metrics: readonly Metric[];
}

/** A workload bench's result (`type` is absent in files written before figure benches). */
export interface WorkloadResult extends BenchResultBase {
  readonly type?: 'workload';
  readonly task: string;
  readonly inputs: number;
  readonly threads: readonly ThreadResult[];
}

/** A figure bench's result. */
export interface FiguresResult extends BenchResultBase {
  readonly type: 'figures';
  readonly figures: readonly FigureResult[];
}

/** One bench file's bench. */
export type BenchResult = WorkloadResult | FiguresResult;

/** Whether `b` measured a workload (sequential / raw Piscina / Tributary at thread counts). */
export function isWorkload(b: BenchResult): b is WorkloadResult {
  return b.type !== 'figures';
}

/** Everything one `run` measured. */
export interface RunReport {
  readonly schema: typeof SCHEMA;
  readonly date: string;
  readonly environment: Environment;
  readonly benches: readonly BenchResult[];
}
