/**
 * Peers suite: Tributary beside the worker pools its users know (Piscina, Tinypool,
 * workerpool, Poolifier) on the same workloads, in the same run, in rotated order (round r
 * starts with peer r mod 5), medians of the rounds. Every peer runs the same task function,
 * imported from the same module (workloads/empty.mjs, workloads/work.mjs); workerpool and
 * Poolifier need a worker script of their own, which only imports and registers it.
 *
 * Not measured yet: the 64 MiB transfer and the 200 x 1 MiB SHA-256 with transfer of the
 * real-workloads issue, which need Tributary's transfer support first.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import { Tinypool } from 'tinypool';
import workerpool from 'workerpool';
import { StreamCoordinator } from '@tributary/runtime';
import { measureRotated } from '../rotate.js';
import { median } from '../stats/index.js';
import { compare, type Comparison, type Suite, type SuiteContext } from '../types.js';
import { calibrate, EMPTY, WORK } from '../workloads/index.js';

type TaskName = 'empty' | 'work';

/** A pool started for one workload: runs every input once, resolving when all are done. */
interface Started {
  runAll(inputs: readonly unknown[]): Promise<unknown>;
  close(): Promise<unknown>;
}

interface Peer {
  readonly name: string;
  start(task: TaskName, threads: number): Started;
}

const HREF: Record<TaskName, string> = { empty: EMPTY, work: WORK };
const peerWorker = (file: string): string => fileURLToPath(new URL(`../workloads/peers/${file}`, import.meta.url));

const PEERS: readonly Peer[] = [
  {
    name: 'Tributary',
    start(task, threads) {
      const c = new StreamCoordinator({ maxThreads: threads, minThreads: threads });
      return {
        runAll: async (inputs) => {
          const results = await c.executeParallel(inputs.map((input, i) => ({ id: `p${i}`, task: HREF[task], input })));
          if (results.some((r) => r.status !== 'complete')) throw new Error('a peers-suite stream failed');
        },
        close: () => c.close(),
      };
    },
  },
  {
    name: 'Piscina',
    start(task, threads) {
      const pool = new Piscina({ filename: HREF[task], minThreads: threads, maxThreads: threads });
      return { runAll: (inputs) => Promise.all(inputs.map((i) => pool.run(i))), close: () => pool.destroy() };
    },
  },
  {
    name: 'Tinypool',
    start(task, threads) {
      const pool = new Tinypool({ filename: HREF[task], minThreads: threads, maxThreads: threads });
      return { runAll: (inputs) => Promise.all(inputs.map((i) => pool.run(i))), close: () => pool.destroy() };
    },
  },
  {
    name: 'workerpool',
    start(task, threads) {
      const pool = workerpool.pool(peerWorker('workerpool-worker.mjs'), { minWorkers: threads, maxWorkers: threads, workerType: 'thread' });
      // workerpool's own promise type: wrap both in native promises.
      return { runAll: (inputs) => Promise.all(inputs.map((i) => Promise.resolve(pool.exec(task, [i])))), close: async () => void (await pool.terminate()) };
    },
  },
  {
    name: 'Poolifier',
    start(task, threads) {
      const pool = new FixedThreadPool(threads, peerWorker(`poolifier-${task}.mjs`));
      return { runAll: (inputs) => Promise.all(inputs.map((i) => pool.execute(i))), close: () => pool.destroy() };
    },
  },
];

/** One workload: which task, on how many threads, with which inputs per call of `runAll`. */
interface Workload {
  readonly id: string;
  readonly name: string;
  readonly task: TaskName;
  readonly threads: number;
  /** Batches per sample: the round trip awaits one input at a time, `calls` times. */
  readonly calls: number;
  readonly inputs: () => readonly unknown[];
  readonly unit: Comparison['unit'];
}

const ROUNDS = 5;

async function measureWorkload(ctx: SuiteContext, w: Workload): Promise<Comparison[]> {
  const started = PEERS.map((p) => p.start(w.task, w.threads));
  const inputs = w.inputs();
  try {
    const samples = await measureRotated(
      PEERS.map((p, i) => ({
        name: p.name,
        run: async () => {
          for (let k = 0; k < w.calls; k++) await started[i]!.runAll(inputs);
        },
      })),
      { rounds: ROUNDS, progress: (name, round) => ctx.progress(`${w.name}: ${name} (${round < 0 ? 'warm-up' : `round ${round + 1}/${ROUNDS}`})`) },
    );
    const perCall = (ms: number): number => (w.unit === 'ns/op' ? (ms * 1e6) / w.calls : ms);
    const tributary = perCall(median(samples[0]!));
    return PEERS.slice(1).map((p, i) =>
      compare(
        { suite: 'peers', id: `peers.${w.id}.${p.name.toLowerCase()}`, name: `${w.name}: vs ${p.name}`, subject: 'Tributary', baseline: p.name, unit: w.unit },
        tributary,
        perCall(median(samples[i + 1]!)),
      ),
    );
  } finally {
    await Promise.all(started.map((s) => s.close()));
  }
}

/** The peers suite. */
export const peers: Suite = {
  name: 'peers',
  description: 'Tributary against Piscina, Tinypool, workerpool and Poolifier on the same task functions',
  async run(ctx) {
    const cpu = (count: number, ms: number): (() => unknown[]) => {
      const iterations = calibrate(ms);
      return () => Array.from({ length: count }, () => ({ iterations }));
    };
    const workloads: Workload[] = [
      { id: 'round-trip', name: 'empty task round trip, 1 thread', task: 'empty', threads: 1, calls: 100, inputs: () => [null], unit: 'ns/op' },
      { id: 'burst', name: 'burst of 10,000 empty tasks, 2 threads', task: 'empty', threads: 2, calls: 1, inputs: () => Array.from({ length: 10_000 }, () => null), unit: 'ms' },
      { id: 'cpu-8x50', name: '8 x 50 ms CPU-bound, 2 threads', task: 'work', threads: 2, calls: 1, inputs: cpu(8, 50), unit: 'ms' },
      { id: 'cpu-64x6', name: '64 x 6 ms CPU-bound, 2 threads', task: 'work', threads: 2, calls: 1, inputs: cpu(64, 6), unit: 'ms' },
    ];
    const out: Comparison[] = [];
    for (const w of workloads) out.push(...(await measureWorkload(ctx, w)));
    return out;
  },
};
