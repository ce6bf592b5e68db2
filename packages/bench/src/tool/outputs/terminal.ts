/** The run as terminal tables (and the same rows for Markdown). */
import { num, pct } from '../../report.js';
import { RUNNER_LABEL, type BenchResult } from '../result.js';

/** Column headers of a bench's table. */
export const HEADER = ['Threads', 'Runner', 'Wall ms [95% CI]', 'Speedup', 'Effic.', 'Seed ovh', 'vs Piscina', 'Karp-Flatt'] as const;

/** One row per runner per thread count, cells as text. */
export function benchRows(bench: BenchResult): string[][] {
  const opt = (x: number | undefined, f: (x: number) => string): string => (x === undefined ? '' : f(x));
  return bench.threads.flatMap((t) =>
    t.runners.map((r) => [
      String(t.threads),
      RUNNER_LABEL[r.runner],
      `${num(r.wallMs.median)} [${num(r.wallMs.low)}, ${num(r.wallMs.high)}]`,
      opt(r.speedup, (x) => `${x.toFixed(2)}x`),
      opt(r.efficiency, pct),
      opt(r.seedOverhead, pct),
      r.runner === 'tributary' ? opt(t.tributaryVsPiscina, (x) => `${x.toFixed(3)}x`) : '',
      opt(r.karpFlatt, (x) => x.toFixed(3)),
    ]),
  );
}
