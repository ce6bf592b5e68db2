/**
 * The spec's performance validation: the same fixed CPU work run sequentially, on raw Piscina
 * and on Tributary, in one run, with the seed's formulas:
 * speedup = sequential / parallel, overhead = (parallel - sequential / threads) / parallel.
 */
import { availableParallelism } from 'node:os';
import { cpuBound, overhead } from '../suites/streams.js';
import { calibrate } from '../workloads/index.js';

/** One runner's figures. */
export interface RunnerFigures {
  readonly runner: 'sequential' | 'raw Piscina' | 'Tributary';
  readonly wallMs: number;
  readonly speedup: number;
  readonly overhead: number;
}

/** What the performance validation measured. */
export interface PerformanceReport {
  readonly threads: number;
  readonly streams: number;
  readonly taskMs: number;
  readonly runners: readonly RunnerFigures[];
  /** Tributary wall time / raw Piscina wall time. */
  readonly vsPiscina: number;
}

/** The spec's thresholds. */
export const SPEC = { maxOverhead: 0.1, minSpeedup: 1.3 } as const;

/** Measures `4 x threads` streams of ~`taskMs` of CPU work on every core of this machine. */
export async function measurePerformance(taskMs = 50, samples = 3): Promise<PerformanceReport> {
  const threads = Math.max(2, availableParallelism());
  const streams = threads * 4;
  const t = await cpuBound(threads, streams, calibrate(taskMs), samples);
  const figures = (runner: RunnerFigures['runner'], wallMs: number): RunnerFigures => ({
    runner,
    wallMs,
    speedup: t.sequential / wallMs,
    overhead: runner === 'sequential' ? 0 : overhead(wallMs, t.sequential, threads),
  });
  return {
    threads,
    streams,
    taskMs,
    runners: [figures('sequential', t.sequential), figures('raw Piscina', t.piscina), figures('Tributary', t.tributary)],
    vsPiscina: t.tributary / t.piscina,
  };
}

/** Whether Tributary meets the spec: overhead under 10% and speedup over 1.3x. */
export function meetsSpec(report: PerformanceReport): boolean {
  const tributary = report.runners.find((r) => r.runner === 'Tributary')!;
  return tributary.overhead < SPEC.maxOverhead && tributary.speedup > SPEC.minSpeedup;
}
