/**
 * What a user's bench file declares. A bench file's default export is `defineBench({...})`:
 *
 * ```js
 * import { defineBench } from '@tributary/bench';
 * export default defineBench({
 *   name: 'mandelbrot',
 *   task: new URL('./mandel.mjs', import.meta.url),
 *   inputs: () => Array.from({ length: 16 }, (_, tile) => ({ tile })),
 *   threads: [1, 2, 'max'],
 * });
 * ```
 */

/** The runners a bench compares Tributary with. */
export const BASELINES = ['sequential', 'piscina'] as const;
/** A baseline runner. */
export type BaselineName = (typeof BASELINES)[number];

/** A thread count: a positive integer, or `'max'` for this machine's available parallelism. */
export type ThreadCount = number | 'max';

/** A workload bench: one stream module measured at several thread counts. */
export interface BenchOptions<Input = unknown> {
  /** Names the bench in reports and in the baseline file. */
  readonly name: string;
  /**
   * The stream module: a file URL or a path (relative paths resolve against the bench file).
   * Its default export is called with one input: by Tributary as a stream (`(input, ctx)`),
   * by raw Piscina as a task and by the sequential baseline on the main thread (`(input)`).
   */
  readonly task: string | URL;
  /** The inputs of one run, one stream each. Called once per run, so it may allocate shared memory. */
  readonly inputs: () => readonly Input[] | Promise<readonly Input[]>;
  /** Thread counts to measure. Default `[1, 2, 4, 'max']`, capped at this machine's parallelism and deduplicated. */
  readonly threads?: readonly ThreadCount[];
  /** Baselines measured beside Tributary in the same run. Default both: `['sequential', 'piscina']`. */
  readonly baselines?: readonly BaselineName[];
  /** Timed rounds per thread count (each runs every runner once, in rotated order). Default 7. */
  readonly rounds?: number;
  /** Untimed warm-up rounds first. Default 1. */
  readonly warmup?: number;
}

/**
 * One figure of a {@link FigureBenchOptions} bench: an operation of the subject timed beside
 * its baseline in the same round. The gate judges `subjectValue / baselineValue` (lower is better).
 */
export interface Figure {
  /** Stable id, unique in the bench: the baseline file and `gate` refer to it (e.g. `mutex.uncontended`). */
  readonly id: string;
  /** What was measured, for people. */
  readonly name: string;
  /** The measured side (e.g. `Mutex`). */
  readonly subject: string;
  /** The raw side it is compared with (e.g. `raw futex`). */
  readonly baseline: string;
  /** Cost of one subject operation, in `unit`. */
  readonly subjectValue: number;
  /** Cost of one baseline operation, in `unit`. */
  readonly baselineValue: number;
  /** Unit of both values, e.g. `ns/op` or `ms`. */
  readonly unit: string;
  /** The highest ratio the author accepts, shown beside the figure (not gated). */
  readonly target?: number;
}

/** What a figure bench's `measure` is given. */
export interface MeasureContext {
  /** Milliseconds a micro-benchmark should sample each operation for (`timeMs`, or `--time`). */
  readonly timeMs: number;
  /** Logical cores of this machine. */
  readonly cores: number;
  /** Tells the progress display what is running now. */
  readonly progress: (step: string) => void;
}

/**
 * A figure bench: your own measurements (micro-benchmarks, protocols, peers) as same-run
 * ratios of a subject to its baseline. `measure` is called once per round; each figure's
 * per-round ratios are the samples the gate tests.
 */
export interface FigureBenchOptions {
  /** Names the bench in reports and in the baseline file. */
  readonly name: string;
  /** Measures every figure once; called `warmup + rounds` times. Every round must return the same ids. */
  readonly measure: (ctx: MeasureContext) => readonly Figure[] | Promise<readonly Figure[]>;
  /**
   * Which figures `check` gates, and each one's tolerance (0.25 = a ratio 25% worse than the
   * baseline's). Figures not named are reported only. Default: every figure, at 0.25.
   */
  readonly gate?: Readonly<Record<string, number>>;
  /** Timed rounds. Default 5 (the fewest with which a Mann-Whitney test can reach p < 0.05 is 4). */
  readonly rounds?: number;
  /** Untimed rounds first. Default 0. */
  readonly warmup?: number;
  /** Passed to `measure` as `ctx.timeMs`. Default 200. */
  readonly timeMs?: number;
}

/** A workload bench as the runner sees it: {@link BenchOptions} with defaults filled in. */
export interface WorkloadBench {
  readonly kind: 'tributary-bench';
  readonly type: 'workload';
  readonly name: string;
  readonly task: string | URL;
  readonly inputs: () => readonly unknown[] | Promise<readonly unknown[]>;
  readonly threads: readonly ThreadCount[];
  readonly baselines: readonly BaselineName[];
  readonly rounds: number;
  readonly warmup: number;
}

/** A figure bench as the runner sees it: {@link FigureBenchOptions} with defaults filled in. */
export interface FigureBench {
  readonly kind: 'tributary-bench';
  readonly type: 'figures';
  readonly name: string;
  readonly measure: FigureBenchOptions['measure'];
  /** Figure id to tolerance; `undefined` gates every figure at {@link DEFAULT_FIGURE_TOLERANCE}. */
  readonly gate: Readonly<Record<string, number>> | undefined;
  readonly rounds: number;
  readonly warmup: number;
  readonly timeMs: number;
}

/** What `defineBench` returns and a bench file exports. */
export type BenchDefinition = WorkloadBench | FigureBench;

/** Tolerance of a figure when the bench has no `gate` map. */
export const DEFAULT_FIGURE_TOLERANCE = 0.25;

/** A usage mistake (bad option, bad bench file): the CLI prints it with its help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Declares a bench; the default export of a bench file: a workload ({@link BenchOptions}: `task`
 * and `inputs`) or your own figures ({@link FigureBenchOptions}: `measure`). Checks the options
 * at once so a mistake is reported against the bench file, not halfway through a run.
 */
export function defineBench<Input>(options: BenchOptions<Input>): WorkloadBench;
export function defineBench(options: FigureBenchOptions): FigureBench;
export function defineBench<Input>(options: BenchOptions<Input> | FigureBenchOptions): BenchDefinition {
  if (typeof options !== 'object' || options === null) throw new UsageError('defineBench needs an options object');
  const { name } = options;
  if (typeof name !== 'string' || name.trim() === '') throw new UsageError('defineBench: name must be a non-empty string');
  if ('measure' in options) return defineFigures(options);
  const { task, inputs } = options;
  if (typeof task !== 'string' && !(task instanceof URL)) throw new UsageError(`bench ${name}: task must be a path or a URL of the stream module (or give measure for a figure bench)`);
  if (typeof inputs !== 'function') throw new UsageError(`bench ${name}: inputs must be a function returning the streams' inputs`);
  const threads = options.threads ?? [1, 2, 4, 'max'];
  if (!Array.isArray(threads) || threads.length === 0 || !threads.every((t) => t === 'max' || (Number.isInteger(t) && t > 0))) {
    throw new UsageError(`bench ${name}: threads must be a non-empty list of positive integers or 'max', got ${JSON.stringify(threads)}`);
  }
  const baselines = options.baselines ?? BASELINES;
  const unknown = baselines.filter((b) => !BASELINES.includes(b));
  if (unknown.length > 0) throw new UsageError(`bench ${name}: unknown baseline(s) ${unknown.join(', ')}; pick from ${BASELINES.join(', ')}`);
  return {
    kind: 'tributary-bench',
    type: 'workload',
    name,
    task,
    inputs: inputs as WorkloadBench['inputs'],
    threads,
    baselines,
    rounds: count(name, 'rounds', options.rounds, 7, 2),
    warmup: count(name, 'warmup', options.warmup, 1, 0),
  };
}

function defineFigures(options: FigureBenchOptions): FigureBench {
  const { name, measure, gate } = options;
  if (typeof measure !== 'function') throw new UsageError(`bench ${name}: measure must be a function returning the figures of one round`);
  if (gate !== undefined) {
    const bad = typeof gate !== 'object' || gate === null ? [['gate', gate]] : Object.entries(gate).filter(([, t]) => typeof t !== 'number' || !(t >= 0) || !Number.isFinite(t));
    if (bad.length > 0) throw new UsageError(`bench ${name}: gate maps figure ids to tolerances (numbers >= 0, 0.25 = 25% worse); ${String(bad[0]![0])} is ${String(bad[0]![1])}`);
  }
  return {
    kind: 'tributary-bench',
    type: 'figures',
    name,
    measure,
    gate,
    rounds: count(name, 'rounds', options.rounds, 5, 1),
    warmup: count(name, 'warmup', options.warmup, 0, 0),
    timeMs: count(name, 'timeMs', options.timeMs, 200, 1),
  };
}

function count(bench: string, what: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new UsageError(`bench ${bench}: ${what} must be an integer >= ${min}, got ${value}`);
  return value;
}
