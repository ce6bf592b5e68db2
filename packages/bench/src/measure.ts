/** Runs tinybench over batched tasks and returns the median cost of one operation of each. */
import { Bench } from 'tinybench';
import { median } from './stats/index.js';

/** A task: `fn` performs `opsPerCall` operations per call. */
export interface BatchTask {
  readonly name: string;
  readonly fn: () => unknown;
  readonly opsPerCall: number;
  /** Whether `fn` returns a promise; said up front so tinybench never probes it by calling it. */
  readonly async?: boolean;
}

/**
 * Times every task in rotated tinybench rounds and returns nanoseconds per operation (median
 * of the samples), in task order. Batching keeps timer overhead out of nanosecond-scale operations.
 */
export async function nsPerOp(tasks: readonly BatchTask[], timeMs: number): Promise<number[]> {
  const medians = await medianMs(tasks, { time: timeMs, warmupTime: Math.max(50, timeMs / 4) });
  return medians.map((ms, i) => (ms * 1e6) / tasks[i]!.opsPerCall);
}

/**
 * Times whole runs (tens to hundreds of ms each): a fixed number of samples per task, one
 * warm-up call per ten samples, and the median wall time of one call in ms, in task order.
 */
export async function msPerRun(tasks: readonly Omit<BatchTask, 'opsPerCall'>[], samples: number): Promise<number[]> {
  return medianMs(tasks, { time: 0, iterations: samples, warmupTime: 0, warmupIterations: Math.max(1, Math.ceil(samples / 10)) });
}

/** Rounds each measurement is split into; task order rotates between rounds. */
const ROUNDS = 5;

/**
 * Medians of tinybench's p50 per task over {@link ROUNDS} short runs, the task order rotated
 * each round: tinybench times one task after another, so a burst of load from elsewhere on the
 * machine would otherwise land on one side of a same-run ratio only.
 */
async function medianMs(
  tasks: readonly Omit<BatchTask, 'opsPerCall'>[],
  options: { time: number; iterations?: number; warmupTime: number; warmupIterations?: number },
): Promise<number[]> {
  const rounds = Math.min(ROUNDS, options.iterations ?? ROUNDS);
  const perRound = {
    ...options,
    time: options.time / rounds,
    warmupTime: options.warmupTime / rounds,
    // tinybench also runs at least `iterations` calls (64 by default): split that minimum too.
    iterations: Math.ceil((options.iterations ?? 64) / rounds),
    ...(options.warmupIterations === undefined ? {} : { warmupIterations: Math.ceil(options.warmupIterations / rounds) }),
  };
  const p50s = tasks.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    const order = tasks.map((_, i) => (i + r) % tasks.length);
    const bench = new Bench({ ...perRound, throws: true });
    for (const i of order) bench.add(tasks[i]!.name, tasks[i]!.fn, { async: tasks[i]!.async ?? false });
    await bench.run();
    bench.tasks.forEach((task, k) => {
      const result = task.result;
      if (result.state !== 'completed') throw new Error(`benchmark task ${task.name} ended ${result.state}`);
      p50s[order[k]!]!.push(result.latency.p50);
    });
  }
  return p50s.map(median);
}
