/**
 * Streams suite: the coordinator against raw Piscina and a sequential loop, in one run.
 *
 * - round trip: one empty stream through `executeParallel` vs one empty `piscina.run`;
 * - CPU-bound: 8 streams of ~50 ms of fixed work on 2 threads, vs the same 8 tasks on a raw
 *   Piscina pool of 2 threads, vs the same work done sequentially on the main thread.
 *
 * The seed's overhead is (parallel - sequential / threads) / parallel, with `threads` the
 * streams that truly run at once (the seed's "num_streams" on a machine with that many cores).
 */
import { Piscina } from 'piscina';
import { StreamCoordinator } from '@tributary/runtime';
import { msPerRun } from '../measure.js';
import { compare, type Comparison, type Suite, type SuiteContext } from '../types.js';
import { burnHere, calibrate, EMPTY, WORK } from '../workloads/index.js';

const STREAMS = 8;
const THREADS = 2;
const TASK_MS = 50;

/** Sequential, raw-Piscina and Tributary wall times of `streams` x `iterations` on `threads`. */
export async function cpuBound(threads: number, streams: number, iterations: number, samples: number) {
  const raw = new Piscina({ filename: WORK, minThreads: threads, maxThreads: threads });
  const coordinator = new StreamCoordinator({ maxThreads: threads, minThreads: threads });
  const specs = Array.from({ length: streams }, (_, i) => ({ id: `w${i}`, task: WORK, input: { iterations } }));
  try {
    const [sequential, piscina, tributary] = await msPerRun(
      [
        { name: 'sequential', fn: () => { for (let i = 0; i < streams; i++) burnHere(iterations); } },
        { name: 'raw Piscina', async: true, fn: () => Promise.all(specs.map((s) => raw.run(s.input))) },
        {
          name: 'Tributary',
          async: true,
          fn: async () => {
            const results = await coordinator.executeParallel(specs);
            if (results.some((r) => r.status !== 'complete')) throw new Error('a benchmark stream failed');
          },
        },
      ],
      samples,
    );
    return { sequential: sequential!, piscina: piscina!, tributary: tributary! };
  } finally {
    await Promise.all([raw.destroy(), coordinator.close()]);
  }
}

/** The seed's overhead formula with `threads` parallel streams. */
export function overhead(parallelMs: number, sequentialMs: number, threads: number): number {
  return (parallelMs - sequentialMs / threads) / parallelMs;
}

async function roundTrip(ctx: SuiteContext): Promise<Comparison> {
  ctx.progress('empty stream round trip');
  const raw = new Piscina({ filename: EMPTY, minThreads: 1, maxThreads: 1 });
  const coordinator = new StreamCoordinator({ maxThreads: 1 });
  const spec = [{ id: 'empty', task: EMPTY }];
  try {
    const tributary = { name: 'Tributary empty stream', async: true, fn: () => coordinator.executeParallel(spec) };
    const piscina = { name: 'raw Piscina empty task', async: true, fn: () => raw.run(null) };
    // A-B-B-A order, averaged per side, so neither side gains from running second (warmer JIT, caches).
    const again = (t: typeof tributary) => ({ ...t, name: `${t.name} (again)` });
    const [t1, p1, p2, t2] = await msPerRun([tributary, piscina, again(piscina), again(tributary)], 1_000);
    return compare(
      { suite: 'streams', id: 'streams.round-trip', name: 'empty stream round trip', subject: 'Tributary', baseline: 'raw Piscina', unit: 'ms', target: 1.5 },
      (t1! + t2!) / 2,
      (p1! + p2!) / 2,
    );
  } finally {
    await Promise.all([raw.destroy(), coordinator.close()]);
  }
}

/** The streams suite. */
export const streams: Suite = {
  name: 'streams',
  description: 'stream round trip and CPU-bound streams against raw Piscina and sequential',
  async run(ctx) {
    const trip = await roundTrip(ctx);
    ctx.progress(`${STREAMS} x ${TASK_MS} ms CPU-bound on ${THREADS} threads`);
    const t = await cpuBound(THREADS, STREAMS, calibrate(TASK_MS), 5);
    const base = { suite: 'streams', unit: 'ms' as const };
    return [
      trip,
      compare({ ...base, id: 'streams.cpu-vs-piscina', name: `${STREAMS} x ${TASK_MS} ms on ${THREADS} threads`, subject: 'Tributary', baseline: 'raw Piscina', target: 1.05 }, t.tributary, t.piscina),
      compare({ ...base, id: 'streams.cpu-vs-sequential', name: `${STREAMS} x ${TASK_MS} ms on ${THREADS} threads (1/speedup)`, subject: 'Tributary', baseline: 'sequential' }, t.tributary, t.sequential),
      compare({ ...base, id: 'streams.seed-overhead', name: 'seed overhead: parallel / (parallel - seq/threads) ...', subject: 'Tributary', baseline: 'ideal seq/threads' }, t.tributary, t.sequential / THREADS),
    ];
  },
};
