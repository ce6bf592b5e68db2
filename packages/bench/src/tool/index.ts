/**
 * @tributary/bench: benchmark parallel workloads sequentially, on raw Piscina and through
 * Tributary in the same run, and gate regressions on same-run ratios.
 *
 * @packageDocumentation
 */
export {
  BASELINES,
  DEFAULT_FIGURE_TOLERANCE,
  defineBench,
  UsageError,
  type BaselineName,
  type BenchDefinition,
  type BenchOptions,
  type Figure,
  type FigureBench,
  type FigureBenchOptions,
  type MeasureContext,
  type ThreadCount,
  type WorkloadBench,
} from './define.js';
export type { Environment } from './env.js';
export { isWorkload, SCHEMA, type BenchResult, type FigureResult, type FiguresResult, type WorkloadResult, type Metric, type RunnerName, type RunnerResult, type RunReport, type ThreadResult } from './result.js';
export { karpFlatt, mannWhitneyU, median, medianCI, quantile, seedOverhead, type MannWhitney, type MedianCI } from '../stats/index.js';
