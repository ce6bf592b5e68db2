/**
 * Measures a figure bench: `measure` once per round after the warm-up rounds; each figure's
 * per-round subject / baseline ratios become one gateable metric.
 */
import { availableParallelism } from 'node:os';
import { median, medianCI } from '../stats/index.js';
import { DEFAULT_FIGURE_TOLERANCE, type Figure, type FigureBench } from './define.js';
import type { FigureResult, FiguresResult, Metric } from './result.js';

/** Runs `bench` (loaded from `file`); `progress` hears each step. */
export async function measureFigures(bench: FigureBench, file: string, progress: (step: string, roundDone: boolean) => void): Promise<FiguresResult> {
  const rounds: Figure[][] = [];
  for (let round = 0; round < bench.warmup + bench.rounds; round++) {
    const label = round < bench.warmup ? 'warm-up' : `round ${round - bench.warmup + 1}/${bench.rounds}`;
    const figures = await bench.measure({ timeMs: bench.timeMs, cores: availableParallelism(), progress: (step) => progress(`${bench.name}, ${label}: ${step}`, false) });
    progress(`${bench.name}, ${label} done`, true);
    if (round >= bench.warmup) rounds.push(checked(bench.name, figures, rounds[0]));
  }
  const figures = rounds[0]!.map((first, i): FigureResult => {
    const same = rounds.map((r) => r[i]!);
    const samples = same.map((f) => f.subjectValue / f.baselineValue);
    return {
      id: first.id,
      name: first.name,
      subject: first.subject,
      baseline: first.baseline,
      unit: first.unit,
      subjectValue: median(same.map((f) => f.subjectValue)),
      baselineValue: median(same.map((f) => f.baselineValue)),
      samples,
      ratio: medianCI(samples),
      ...(first.target === undefined ? {} : { target: first.target }),
    };
  });
  const unknown = Object.keys(bench.gate ?? {}).filter((id) => !figures.some((f) => f.id === id));
  if (unknown.length > 0) throw new Error(`bench ${bench.name}: gate names figure(s) ${unknown.join(', ')} that measure did not return`);
  return { type: 'figures', name: bench.name, file, rounds: bench.rounds, warmup: bench.warmup, figures, metrics: figures.map((f) => metricOf(bench, f)) };
}

function metricOf(bench: FigureBench, f: FigureResult): Metric {
  const tolerance = bench.gate === undefined ? DEFAULT_FIGURE_TOLERANCE : bench.gate[f.id];
  return {
    id: f.id,
    description: `${f.subject} / ${f.baseline}: ${f.name}`,
    better: 'lower',
    unit: 'x',
    tolerance: tolerance ?? DEFAULT_FIGURE_TOLERANCE,
    absolute: false,
    gated: tolerance !== undefined,
    value: f.ratio.median,
    samples: f.samples,
  };
}

/** The round's figures, refused when malformed or when their ids differ from the first round's. */
function checked(bench: string, figures: readonly Figure[], first: readonly Figure[] | undefined): Figure[] {
  if (!Array.isArray(figures) || figures.length === 0) throw new Error(`bench ${bench}: measure must return a non-empty array of figures`);
  for (const f of figures) {
    if (typeof f?.id !== 'string' || !(f.subjectValue > 0) || !(f.baselineValue > 0)) {
      throw new Error(`bench ${bench}: each figure needs an id and positive subjectValue and baselineValue, got ${JSON.stringify(f)}`);
    }
  }
  const ids = figures.map((f) => f.id).join();
  if (new Set(figures.map((f) => f.id)).size !== figures.length) throw new Error(`bench ${bench}: figure ids repeat: ${ids}`);
  if (first !== undefined && first.map((f) => f.id).join() !== ids) throw new Error(`bench ${bench}: every round must return the same figures, in order`);
  return [...figures];
}
