/** Runs tinybench over batched tasks and returns the median cost of one operation of each. */
import { Bench } from 'tinybench';

/** A task: `fn` performs `opsPerCall` operations per call. */
export interface BatchTask {
  readonly name: string;
  readonly fn: () => unknown;
  readonly opsPerCall: number;
  /** Whether `fn` returns a promise; said up front so tinybench never probes it by calling it. */
  readonly async?: boolean;
}

/**
 * Times every task in one tinybench run and returns nanoseconds per operation (median of the
 * samples), in task order. Batching keeps timer overhead out of nanosecond-scale operations.
 */
export async function nsPerOp(tasks: readonly BatchTask[], timeMs: number): Promise<number[]> {
  const medians = await medianMs(tasks, { time: timeMs, warmupTime: Math.max(20, timeMs / 4) });
  return medians.map((ms, i) => (ms * 1e6) / tasks[i]!.opsPerCall);
}

/**
 * Times whole runs (tens to hundreds of ms each): a fixed number of samples per task, one
 * warm-up call per ten samples, and the median wall time of one call in ms, in task order.
 */
export async function msPerRun(tasks: readonly Omit<BatchTask, 'opsPerCall'>[], samples: number): Promise<number[]> {
  return medianMs(tasks, { time: 0, iterations: samples, warmupTime: 0, warmupIterations: Math.max(1, Math.ceil(samples / 10)) });
}

async function medianMs(
  tasks: readonly Omit<BatchTask, 'opsPerCall'>[],
  options: { time: number; iterations?: number; warmupTime: number; warmupIterations?: number },
): Promise<number[]> {
  const bench = new Bench({ ...options, throws: true });
  for (const t of tasks) bench.add(t.name, t.fn, { async: t.async ?? false });
  await bench.run();
  return bench.tasks.map((task) => {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`benchmark task ${task.name} ended ${r.state}`);
    return r.latency.p50;
  });
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
