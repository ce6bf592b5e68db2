/**
 * @tributary/bench: benchmark parallel workloads sequentially, on raw Piscina and through
 * Tributary in the same run, and gate regressions on same-run ratios.
 *
 * @packageDocumentation
 */
export { BASELINES, defineBench, UsageError, type BaselineName, type BenchDefinition, type BenchOptions, type ThreadCount } from './define.js';
export type { Environment } from './env.js';
export { SCHEMA, type BenchResult, type Metric, type RunnerName, type RunnerResult, type RunReport, type ThreadResult } from './result.js';
export { karpFlatt, mannWhitneyU, median, medianCI, quantile, seedOverhead, type MannWhitney, type MedianCI } from '../stats/index.js';
