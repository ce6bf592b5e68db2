/**
 * Runs suites several times with a progress display and keeps, for every figure, the median
 * of the runs: one run on a 2-core machine is too noisy to quote or to gate on.
 */
import { availableParallelism } from 'node:os';
import { createProgress } from './progress.js';
import { median } from './stats/index.js';
import type { Comparison, Suite } from './types.js';

/** How suites are run. */
export interface RunOptions {
  /** tinybench sampling time per task, ms. */
  readonly timeMs: number;
  /** Runs per suite; the median of each figure is kept. */
  readonly runs: number;
}

/** Runs `suites` `options.runs` times each and returns the median figures. */
export async function runSuites(suites: readonly Suite[], options: RunOptions): Promise<Comparison[]> {
  const bar = createProgress('bench', suites.length * options.runs);
  const out: Comparison[] = [];
  try {
    for (const suite of suites) {
      const runs: Comparison[][] = [];
      for (let r = 0; r < options.runs; r++) {
        const progress = (step: string): void => bar.update(`${suite.name}: ${step} (run ${r + 1})`);
        runs.push(await suite.run({ timeMs: options.timeMs, cores: availableParallelism(), progress }));
        bar.increment();
      }
      out.push(...medianOf(runs));
    }
  } finally {
    bar.stop();
  }
  return out;
}

function medianOf(runs: readonly Comparison[][]): Comparison[] {
  return runs[0]!.map((first) => {
    const same = runs.map((run) => run.find((c) => c.id === first.id)!);
    return {
      ...first,
      subjectValue: median(same.map((c) => c.subjectValue)),
      baselineValue: median(same.map((c) => c.baselineValue)),
      ratio: median(same.map((c) => c.ratio)),
    };
  });
}
