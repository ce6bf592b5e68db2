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

/** A bench: one workload measured at several thread counts. */
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

/** A bench as the runner sees it: {@link BenchOptions} with defaults filled in. */
export interface BenchDefinition {
  readonly kind: 'tributary-bench';
  readonly name: string;
  readonly task: string | URL;
  readonly inputs: () => readonly unknown[] | Promise<readonly unknown[]>;
  readonly threads: readonly ThreadCount[];
  readonly baselines: readonly BaselineName[];
  readonly rounds: number;
  readonly warmup: number;
}

/** A usage mistake (bad option, bad bench file): the CLI prints it with its help and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Declares a bench; the default export of a bench file. Checks the options at once so a
 * mistake is reported against the bench file, not halfway through a run.
 */
export function defineBench<Input>(options: BenchOptions<Input>): BenchDefinition {
  if (typeof options !== 'object' || options === null) throw new UsageError('defineBench needs an options object');
  const { name, task, inputs } = options;
  if (typeof name !== 'string' || name.trim() === '') throw new UsageError('defineBench: name must be a non-empty string');
  if (typeof task !== 'string' && !(task instanceof URL)) throw new UsageError(`bench ${name}: task must be a path or a URL of the stream module`);
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
    name,
    task,
    inputs: inputs as BenchDefinition['inputs'],
    threads,
    baselines,
    rounds: count(name, 'rounds', options.rounds, 7, 2),
    warmup: count(name, 'warmup', options.warmup, 1, 0),
  };
}

function count(bench: string, what: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min) throw new UsageError(`bench ${bench}: ${what} must be an integer >= ${min}, got ${value}`);
  return value;
}
