/** Runs tinybench over batched tasks and returns the median cost of one operation of each. */
import { Bench } from 'tinybench';

/** A task: `fn` performs `opsPerCall` operations per call. */
export interface BatchTask {
  readonly name: string;
  readonly fn: () => unknown;
  readonly opsPerCall: number;
}

/**
 * Times every task in one tinybench run and returns nanoseconds per operation (median of the
 * samples), in task order. Batching keeps timer overhead out of nanosecond-scale operations.
 */
export async function nsPerOp(tasks: readonly BatchTask[], timeMs: number): Promise<number[]> {
  const bench = new Bench({ time: timeMs, warmupTime: Math.max(20, timeMs / 4), throws: true });
  for (const t of tasks) bench.add(t.name, t.fn);
  await bench.run();
  return bench.tasks.map((task, i) => {
    const r = task.result;
    if (r.state !== 'completed') throw new Error(`benchmark task ${task.name} ended ${r.state}`);
    return (r.latency.p50 * 1e6) / tasks[i]!.opsPerCall;
  });
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
