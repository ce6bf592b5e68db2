/**
 * The spec's performance validation: the same fixed CPU work run sequentially, on raw Piscina
 * and on Tributary, in one run, in rotated order, several rounds. It shows the seed's formulas
 * (speedup = sequential / parallel, overhead = (parallel - sequential / threads) / parallel)
 * but judges Tributary by what it adds over raw Piscina measured in the same rounds, so a
 * busy machine, which slows both, cannot flip the verdict.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { StreamCoordinator } from '@tributary/runtime';
import { measureRotated } from '../rotate.js';
import { mannWhitneyU, median, medianCI, seedOverhead, type MedianCI } from '../stats/index.js';
import { burnHere, calibrate, WORK } from '../workloads/index.js';

/** The seed's thresholds, and how much Tributary may add over raw Piscina. */
export const SPEC = {
  maxOverhead: 0.1,
  minSpeedup: 1.3,
  /** Points of seed overhead Tributary may add to raw Piscina's, same run (0.05 = 5 points). */
  maxExcessOverhead: 0.05,
  /** Significance level of the Mann-Whitney test that must back a FAIL. */
  alpha: 0.05,
} as const;

export type RunnerName = 'sequential' | 'raw Piscina' | 'Tributary';

/** One runner's figures: medians over the rounds. */
export interface RunnerFigures {
  readonly runner: RunnerName;
  readonly wallMs: MedianCI;
  /** Median of the rounds' sequential / this runner. */
  readonly speedup: number;
  /** Median of the rounds' seed overhead. */
  readonly overhead: number;
  readonly samples: readonly number[];
}

/** The verdict: PASS, FAIL, or INCONCLUSIVE when this machine cannot tell. */
export interface Verdict {
  readonly result: 'PASS' | 'FAIL' | 'INCONCLUSIVE';
  /** Why, in one sentence. */
  readonly reason: string;
}

/** What the performance validation measured. */
export interface PerformanceReport {
  readonly threads: number;
  readonly streams: number;
  readonly taskMs: number;
  readonly rounds: number;
  readonly runners: readonly RunnerFigures[];
  /** Median of the rounds' Tributary / raw Piscina wall time. */
  readonly vsPiscina: number;
  /** Median of the rounds' Tributary overhead minus raw Piscina's, with its 95% CI. */
  readonly excessOverhead: MedianCI;
  /** Two-sided Mann-Whitney p-value of Tributary's wall times against raw Piscina's. */
  readonly p: number;
  readonly verdict: Verdict;
}

/**
 * Measures `4 x threads` streams of ~`taskMs` of CPU work on every core of this machine,
 * `rounds` rotated rounds after one warm-up round. `progress` hears each timed run.
 */
export async function measurePerformance(taskMs = 50, rounds = 11, progress?: (step: string) => void): Promise<PerformanceReport> {
  const threads = Math.max(2, availableParallelism());
  const streams = threads * 4;
  const iterations = calibrate(taskMs);
  const raw = new Piscina({ filename: WORK, minThreads: threads, maxThreads: threads });
  const coordinator = new StreamCoordinator({ maxThreads: threads, minThreads: threads });
  const specs = Array.from({ length: streams }, (_, i) => ({ id: `w${i}`, task: WORK, input: { iterations } }));
  let samples: number[][];
  try {
    samples = await measureRotated(
      [
        { name: 'sequential', run: () => { for (let i = 0; i < streams; i++) burnHere(iterations); } },
        { name: 'raw Piscina', run: () => Promise.all(specs.map((s) => raw.run(s.input))) },
        {
          name: 'Tributary',
          run: async () => {
            const results = await coordinator.executeParallel(specs);
            if (results.some((r) => r.status !== 'complete')) throw new Error('a validation stream failed');
          },
        },
      ],
      { rounds, progress: (name, round) => progress?.(round < 0 ? `warm-up: ${name}` : `round ${round + 1}/${rounds}: ${name}`) },
    );
  } finally {
    await Promise.all([raw.destroy(), coordinator.close()]);
  }
  const [sequential, piscina, tributary] = samples as [number[], number[], number[]];
  const perRound = (wall: readonly number[], f: (x: number, seq: number) => number): number[] => wall.map((x, r) => f(x, sequential[r]!));
  const overheads = (wall: readonly number[]): number[] => perRound(wall, (x, seq) => seedOverhead(x, seq, threads));
  const figures = (runner: RunnerName, wall: readonly number[]): RunnerFigures => ({
    runner,
    wallMs: medianCI(wall),
    speedup: median(perRound(wall, (x, seq) => seq / x)),
    overhead: runner === 'sequential' ? 0 : median(overheads(wall)),
    samples: wall,
  });
  const tributaryOverheads = overheads(tributary);
  const piscinaOverheads = overheads(piscina);
  const runners = [figures('sequential', sequential), figures('raw Piscina', piscina), figures('Tributary', tributary)];
  const excessOverhead = medianCI(tributaryOverheads.map((o, r) => o - piscinaOverheads[r]!));
  const p = mannWhitneyU(tributary, piscina).p;
  return {
    threads,
    streams,
    taskMs,
    rounds,
    runners,
    vsPiscina: median(tributary.map((t, r) => t / piscina[r]!)),
    excessOverhead,
    p,
    verdict: judge(runners[1]!, runners[2]!, excessOverhead.median, p),
  };
}

/** Whether a runner meets the seed's absolute bar. */
export function meetsSeedBar(r: Pick<RunnerFigures, 'overhead' | 'speedup'>): boolean {
  return r.overhead < SPEC.maxOverhead && r.speedup > SPEC.minSpeedup;
}

/**
 * The verdict on Tributary. It fails only when it adds more than the allowed overhead over
 * raw Piscina AND the two wall-time samples differ significantly; past the allowance without
 * significance, the machine is too noisy to tell. Within the allowance it passes when it or
 * raw Piscina meets the seed's bar; when neither does, the machine itself cannot reach it.
 */
export function judge(piscina: Pick<RunnerFigures, 'overhead' | 'speedup'>, tributary: Pick<RunnerFigures, 'overhead' | 'speedup'>, excess: number, p: number): Verdict {
  const points = (x: number): string => `${(x * 100).toFixed(1)} points`;
  const budget = points(SPEC.maxExcessOverhead);
  if (excess > SPEC.maxExcessOverhead) {
    return p < SPEC.alpha
      ? { result: 'FAIL', reason: `Tributary adds ${points(excess)} of overhead over raw Piscina (allowed ${budget}; p = ${p.toFixed(3)})` }
      : { result: 'INCONCLUSIVE', reason: `the machine is too noisy to separate Tributary from raw Piscina (excess ${points(excess)}, p = ${p.toFixed(2)})` };
  }
  if (meetsSeedBar(tributary)) return { result: 'PASS', reason: `Tributary meets the seed's bar and adds ${points(excess)} over raw Piscina (allowed ${budget})` };
  if (meetsSeedBar(piscina)) return { result: 'PASS', reason: `Tributary adds ${points(excess)} over raw Piscina (allowed ${budget}), which meets the seed's bar` };
  return {
    result: 'INCONCLUSIVE',
    reason:
      `the machine cannot reach the seed's bar: raw Piscina itself has ${(piscina.overhead * 100).toFixed(1)}% overhead, ` +
      `${piscina.speedup.toFixed(2)}x speedup; Tributary adds ${points(excess)} (allowed ${budget})`,
  };
}
