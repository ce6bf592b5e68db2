/** The run as terminal tables (and the same rows for Markdown). */
import { num, pct } from '../../report.js';
import { RUNNER_LABEL, type BenchResult, type FiguresResult, type WorkloadResult } from '../result.js';

/** Column headers of a workload bench's table. */
export const HEADER = ['Threads', 'Runner', 'Wall ms [95% CI]', 'Speedup', 'Effic.', 'Seed ovh', 'vs Piscina', 'Karp-Flatt'] as const;

/** Column headers of a figure bench's table. */
export const FIGURE_HEADER = ['Figure', 'Subject', 'Baseline', 'Ratio [95% CI]', 'Gate', 'What'] as const;

/** One line saying what a bench ran. */
export function summary(b: BenchResult): string {
  return b.type === 'figures'
    ? `${b.figures.length} figures, ${b.rounds} round(s) after ${b.warmup} warm-up, medians of the rounds`
    : `${b.inputs} streams of ${b.task.split('/').pop()}, ${b.rounds} rotated rounds after ${b.warmup} warm-up, medians`;
}

/** One row per runner per thread count, cells as text. */
export function benchRows(bench: WorkloadResult): string[][] {
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

/** One row per figure: both sides' medians, the ratio with its CI, and whether it is gated. */
export function figureRows(bench: FiguresResult): string[][] {
  return bench.figures.map((f) => {
    const metric = bench.metrics.find((m) => m.id === f.id);
    const target = f.target === undefined ? '' : ` (target <= ${f.target}x${f.ratio.median <= f.target ? '' : ', MISSED'})`;
    return [
      f.id,
      `${num(f.subjectValue)} ${f.unit}`,
      num(f.baselineValue),
      `${f.ratio.median.toFixed(2)}x [${f.ratio.low.toFixed(2)}, ${f.ratio.high.toFixed(2)}]`,
      metric?.gated === false ? '-' : `${((metric?.tolerance ?? 0) * 100).toFixed(0)}%`,
      `${f.subject} vs ${f.baseline}: ${f.name}${target}`,
    ];
  });
}
