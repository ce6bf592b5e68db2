/**
 * Measures a bench: at each thread count, the same task sequentially on the main thread, on
 * raw Piscina and through Tributary, in rotated rounds after a warm-up, in one run.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { StreamCoordinator } from '@tributary/runtime';
import { measureRotated, type Contender } from '../rotate.js';
import { karpFlatt, median, medianCI, seedOverhead } from '../stats/index.js';
import type { ThreadCount, WorkloadBench } from './define.js';
import type { Metric, RunnerName, RunnerResult, ThreadResult, WorkloadResult } from './result.js';

/** Default tolerances of the gated metrics (relative change). */
export const TOLERANCE = { speedup: 0.2, vsPiscina: 0.2, wall: 0.25 } as const;

/** `threads` with 'max' resolved, capped at this machine's parallelism, deduplicated, ascending. */
export function resolveThreads(threads: readonly ThreadCount[], cores = availableParallelism()): number[] {
  return [...new Set(threads.map((t) => Math.min(t === 'max' ? cores : t, cores)))].sort((a, b) => a - b);
}

/** Runs `bench` (loaded from `file`, task module at `taskHref`); `progress` hears each run. */
export async function measureBench(bench: WorkloadBench, file: string, taskHref: string, progress: (step: string) => void): Promise<WorkloadResult> {
  const sequential = (await import(taskHref)) as { default?: unknown };
  const fn = sequential.default;
  if (typeof fn !== 'function') throw new Error(`bench ${bench.name}: ${taskHref} has no default export function`);
  const threads: ThreadResult[] = [];
  let inputCount = 0;
  for (const t of resolveThreads(bench.threads)) {
    const inputs = await bench.inputs();
    if (!Array.isArray(inputs) || inputs.length === 0) throw new Error(`bench ${bench.name}: inputs() must return a non-empty array`);
    inputCount = inputs.length;
    threads.push(await measureThreads(bench, t, inputs, taskHref, fn as (input: unknown) => unknown, progress));
  }
  return {
    type: 'workload',
    name: bench.name,
    file,
    task: taskHref,
    inputs: inputCount,
    rounds: bench.rounds,
    warmup: bench.warmup,
    threads,
    metrics: threads.flatMap(metricsOf),
  };
}

async function measureThreads(
  bench: WorkloadBench,
  threads: number,
  inputs: readonly unknown[],
  taskHref: string,
  fn: (input: unknown) => unknown,
  progress: (step: string) => void,
): Promise<ThreadResult> {
  const pool = bench.baselines.includes('piscina') ? new Piscina({ filename: taskHref, minThreads: threads, maxThreads: threads }) : undefined;
  const coordinator = new StreamCoordinator({ maxThreads: threads, minThreads: threads });
  const specs = inputs.map((input, i) => ({ id: `s${i}`, task: taskHref, input }));
  const contenders: (Contender & { runner: RunnerName })[] = [];
  if (bench.baselines.includes('sequential')) {
    contenders.push({
      runner: 'sequential',
      name: 'sequential',
      run: async () => {
        for (const input of inputs) {
          const r = fn(input);
          if (r instanceof Promise) await r;
        }
      },
    });
  }
  if (pool) contenders.push({ runner: 'piscina', name: 'raw Piscina', run: () => Promise.all(inputs.map((input) => pool.run(input))) });
  contenders.push({
    runner: 'tributary',
    name: 'Tributary',
    run: async () => {
      const failed = (await coordinator.executeParallel(specs)).find((r) => r.status !== 'complete');
      if (failed) throw new Error(`bench ${bench.name}: stream ${failed.id} ended ${failed.status}: ${failed.error?.message}`);
    },
  });
  try {
    const samples = await measureRotated(contenders, {
      rounds: bench.rounds,
      warmup: bench.warmup,
      progress: (name, round) => progress(`${bench.name}, ${threads} thread(s), ${round < 0 ? 'warm-up' : `round ${round + 1}/${bench.rounds}`}: ${name}`),
    });
    const byRunner = new Map(contenders.map((c, i) => [c.runner, samples[i]!]));
    return figures(threads, byRunner);
  } finally {
    await Promise.all([pool?.destroy(), coordinator.close()]);
  }
}

/** The per-runner figures of one thread count from its per-round samples. */
export function figures(threads: number, samples: ReadonlyMap<RunnerName, readonly number[]>): ThreadResult {
  const seq = samples.get('sequential');
  const runners = [...samples].map(([runner, wall]): RunnerResult => {
    const base: RunnerResult = { runner, samples: wall, wallMs: medianCI(wall) };
    if (seq === undefined || runner === 'sequential') return base;
    const speedup = median(wall.map((x, r) => seq[r]! / x));
    const kf = karpFlatt(speedup, threads);
    return {
      ...base,
      speedup,
      efficiency: speedup / threads,
      seedOverhead: median(wall.map((x, r) => seedOverhead(x, seq[r]!, threads))),
      ...(Number.isNaN(kf) ? {} : { karpFlatt: kf }),
    };
  });
  const trib = samples.get('tributary');
  const pisc = samples.get('piscina');
  return { threads, runners, ...(trib && pisc ? { tributaryVsPiscina: median(trib.map((x, r) => x / pisc[r]!)) } : {}) };
}

/** The gateable metrics of one thread count: same-run ratios, and absolute times (opt-in). */
export function metricsOf(t: ThreadResult): Metric[] {
  const get = (runner: RunnerName): readonly number[] | undefined => t.runners.find((r) => r.runner === runner)?.samples;
  const seq = get('sequential');
  const trib = get('tributary')!;
  const pisc = get('piscina');
  const out: Metric[] = [];
  const metric = (m: Omit<Metric, 'value'>): Metric => ({ ...m, value: median(m.samples) });
  if (seq) {
    out.push(metric({ id: `${t.threads}t.speedup`, description: `Tributary speedup over sequential, ${t.threads} thread(s)`, better: 'higher', unit: 'x', tolerance: TOLERANCE.speedup, absolute: false, gated: true, samples: trib.map((x, r) => seq[r]! / x) }));
  }
  if (pisc) {
    out.push(metric({ id: `${t.threads}t.vs-piscina`, description: `Tributary / raw Piscina wall time, ${t.threads} thread(s)`, better: 'lower', unit: 'x', tolerance: TOLERANCE.vsPiscina, absolute: false, gated: true, samples: trib.map((x, r) => x / pisc[r]!) }));
  }
  out.push(metric({ id: `${t.threads}t.wall`, description: `Tributary wall time, ${t.threads} thread(s)`, better: 'lower', unit: 'ms', tolerance: TOLERANCE.wall, absolute: true, gated: true, samples: trib }));
  return out;
}
