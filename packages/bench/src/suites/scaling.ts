/**
 * Scaling suite: the same fixed CPU work (4 streams per thread of ~50 ms each) at 1, 2, 4, ...
 * threads up to this machine's core count, each against raw Piscina at the same thread count
 * and against the sequential loop. Thread counts come from the machine, so the same command
 * reports per-thread-count speedups on a 2-core laptop and a 16-core server.
 */
import { availableParallelism } from 'node:os';
import { compare, type Comparison, type Suite } from '../types.js';
import { calibrate } from '../workloads/index.js';
import { cpuBound } from './streams.js';

const TASK_MS = 50;

/** 1, 2, 4, ... below `cores`, then `cores` itself. */
export function threadCounts(cores: number): number[] {
  const counts: number[] = [];
  for (let t = 1; t < cores; t *= 2) counts.push(t);
  counts.push(cores);
  return counts;
}

/** The scaling suite. */
export const scaling: Suite = {
  name: 'scaling',
  description: 'CPU-bound speedup per thread count against raw Piscina and sequential',
  async run(ctx) {
    const iterations = calibrate(TASK_MS);
    const out: Comparison[] = [];
    for (const threads of threadCounts(availableParallelism())) {
      ctx.progress(`${threads} thread(s)`);
      const streams = threads * 4;
      const t = await cpuBound(threads, streams, iterations, 3);
      const base = { suite: 'scaling', unit: 'ms' as const, subject: 'Tributary' };
      out.push(
        compare({ ...base, id: `scaling.${threads}.vs-piscina`, name: `${threads} thread(s), ${streams} streams: vs raw Piscina`, baseline: 'raw Piscina', target: 1.05 }, t.tributary, t.piscina),
        compare(
          { ...base, id: `scaling.${threads}.speedup`, name: `${threads} thread(s): speedup ${(t.sequential / t.tributary).toFixed(2)}x (raw Piscina ${(t.sequential / t.piscina).toFixed(2)}x)`, baseline: 'sequential' },
          t.tributary,
          t.sequential,
        ),
      );
    }
    return out;
  },
};
