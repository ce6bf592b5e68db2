/**
 * Peers suite: Tributary beside the worker pools its users know (Piscina, Tinypool,
 * workerpool, Poolifier) on the same workloads, in the same run, in rotated order (round r
 * starts with peer r mod 5), medians of the rounds. Every peer runs the same task function,
 * imported from the same module (workloads/empty.mjs, workloads/work.mjs); workerpool and
 * Poolifier need a worker script of their own, which only imports and registers it. Binary
 * inputs are moved to the worker by every peer (its own transfer list option), never copied;
 * they are allocated before each timed run, outside the timing.
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
import { calibrate, EMPTY, WORK, workloadUrl } from '../workloads/index.js';

type TaskName = 'empty' | 'work' | 'sha256' | 'byte-length';

/** One task call: its input, and what in it is moved rather than copied. */
interface Job {
  readonly input: unknown;
  readonly transfer?: ArrayBuffer[];
}

/** A pool started for one workload: runs every job once, resolving when all are done. */
interface Started {
  runAll(jobs: readonly Job[]): Promise<unknown>;
  close(): Promise<unknown>;
}

interface Peer {
  readonly name: string;
  start(task: TaskName, threads: number): Started;
}

const HREF: Record<TaskName, string> = { empty: EMPTY, work: WORK, sha256: workloadUrl('sha256'), 'byte-length': workloadUrl('byte-length') };
const peerWorker = (file: string): string => fileURLToPath(new URL(`../workloads/peers/${file}`, import.meta.url));

const PEERS: readonly Peer[] = [
  {
    name: 'Tributary',
    start(task, threads) {
      const c = new StreamCoordinator({ maxThreads: threads, minThreads: threads });
      return {
        runAll: async (jobs) => {
          const results = await c.executeParallel(jobs.map((j, i) => ({ id: `p${i}`, task: HREF[task], input: j.input, ...(j.transfer ? { transfer: j.transfer } : {}) })));
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
      return { runAll: (jobs) => Promise.all(jobs.map((j) => pool.run(j.input, { transferList: j.transfer }))), close: () => pool.destroy() };
    },
  },
  {
    name: 'Tinypool',
    start(task, threads) {
      const pool = new Tinypool({ filename: HREF[task], minThreads: threads, maxThreads: threads });
      return { runAll: (jobs) => Promise.all(jobs.map((j) => pool.run(j.input, { transferList: j.transfer }))), close: () => pool.destroy() };
    },
  },
  {
    name: 'workerpool',
    start(task, threads) {
      const pool = workerpool.pool(peerWorker('workerpool-worker.mjs'), { minWorkers: threads, maxWorkers: threads, workerType: 'thread' });
      // workerpool's own promise type: wrap both in native promises.
      return {
        runAll: (jobs) => Promise.all(jobs.map((j) => Promise.resolve(pool.exec(task, [j.input], j.transfer ? { transfer: j.transfer } : {})))),
        close: async () => void (await pool.terminate()),
      };
    },
  },
  {
    name: 'Poolifier',
    start(task, threads) {
      const pool = new FixedThreadPool(threads, peerWorker(`poolifier-${task}.mjs`));
      return { runAll: (jobs) => Promise.all(jobs.map((j) => pool.execute(j.input, undefined, undefined, j.transfer))), close: () => pool.destroy() };
    },
  },
];

/** One workload: which task, on how many threads, with which inputs per call of `runAll`. */
interface Workload {
  readonly id: string;
  readonly name: string;
  readonly task: TaskName;
  readonly threads: number;
  /** Batches per sample: the round trip awaits one batch at a time, `calls` times. */
  readonly calls: number;
  /** Idle this long (untimed) before each batch: what a caller pays for a call after a pause. */
  readonly idleMs?: number;
  /** One batch of jobs; called afresh for every call (a transfer detaches what it moved). */
  readonly jobs: () => readonly Job[];
  readonly unit: Comparison['unit'];
}

const ROUNDS = 5;
/** How long one pool may take to run a batch or to close before the suite names it and fails. */
const SETTLE_MS = 120_000;

/**
 * `promise`, or a rejection naming `what` when it has not settled within SETTLE_MS. A pool
 * whose promise never settles once its threads are gone would otherwise leave nothing to keep
 * the process alive: it would end with Node's exit code 13 (an unsettled top-level await), and
 * nobody would know which pool it was (seen once in six runs, after the last SHA-256 round).
 */
async function settles<T>(what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${SETTLE_MS} ms`)), SETTLE_MS);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function measureWorkload(ctx: SuiteContext, w: Workload): Promise<Comparison[]> {
  const started = PEERS.map((p) => p.start(w.task, w.threads));
  let batches: (readonly Job[])[] = [];
  try {
    const samples = await measureRotated(
      PEERS.map((p, i) => ({
        name: p.name,
        prepare: () => {
          batches = Array.from({ length: w.calls }, w.jobs);
        },
        // One deadline per sample, not per call: a timer per call would weigh on the round trip.
        run: () => settles(`${p.name}: ${w.name}`, runBatches(started[i]!, batches, w.idleMs)),
        timesItself: true,
      })),
      { rounds: ROUNDS, progress: (name, round) => ctx.progress(`${w.name}: ${name} (${round < 0 ? 'warm-up' : `round ${round + 1}/${ROUNDS}`})`) },
    );
    const perCall = (ms: number): number => (w.unit === 'ns/op' ? ms * 1e6 : ms) / w.calls;
    const tributary = perCall(median(samples[0]!));
    return PEERS.slice(1).map((p, i) =>
      compare(
        { suite: 'peers', id: `peers.${w.id}.${p.name.toLowerCase()}`, name: `${w.name}: vs ${p.name}`, subject: 'Tributary', baseline: p.name, unit: w.unit },
        tributary,
        perCall(median(samples[i + 1]!)),
      ),
    );
  } finally {
    await Promise.all(started.map((s, i) => settles(`${PEERS[i]!.name}: closing the pool`, s.close())));
  }
}

/** Runs `batches` one after another; resolves with the milliseconds they took, the idling before each (`idleMs`) left out. */
async function runBatches(pool: Started, batches: readonly (readonly Job[])[], idleMs: number | undefined): Promise<number> {
  if (idleMs === undefined) {
    const started = performance.now();
    for (const batch of batches) await pool.runAll(batch);
    return performance.now() - started;
  }
  let busy = 0;
  for (const batch of batches) {
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    const started = performance.now();
    await pool.runAll(batch);
    busy += performance.now() - started;
  }
  return busy;
}

/** The peers suite. */
export const peers: Suite = {
  name: 'peers',
  description: 'Tributary against Piscina, Tinypool, workerpool and Poolifier on the same task functions',
  async run(ctx) {
    const times = (count: number, job: (i: number) => Job) => (): Job[] => Array.from({ length: count }, (_, i) => job(i));
    const cpu = (count: number, ms: number): (() => Job[]) => {
      const iterations = calibrate(ms);
      return times(count, () => ({ input: { iterations } }));
    };
    const bytes = (size: number, fill: number): Job => {
      const data = new ArrayBuffer(size);
      new Uint8Array(data).fill(fill);
      return { input: { data }, transfer: [data] };
    };
    const workloads: Workload[] = [
      // 2,000 calls a sample (~0.1 s): the other pools' samples leave this one's code and threads
      // cold, and a sample of 100 calls measured mostly that and the machine's hiccups.
      { id: 'round-trip', name: 'empty task round trip, 1 thread', task: 'empty', threads: 1, calls: 2000, jobs: times(1, () => ({ input: null })), unit: 'ns/op' },
      // The cold side on its own: one call after the thread has idled.
      { id: 'first-call', name: 'one empty task after 30 ms idle, 1 thread', task: 'empty', threads: 1, calls: 10, idleMs: 30, jobs: times(1, () => ({ input: null })), unit: 'ns/op' },
      { id: 'burst', name: 'burst of 10,000 empty tasks, 2 threads', task: 'empty', threads: 2, calls: 1, jobs: times(10_000, () => ({ input: null })), unit: 'ms' },
      { id: 'cpu-8x50', name: '8 x 50 ms CPU-bound, 2 threads', task: 'work', threads: 2, calls: 1, jobs: cpu(8, 50), unit: 'ms' },
      { id: 'cpu-64x6', name: '64 x 6 ms CPU-bound, 2 threads', task: 'work', threads: 2, calls: 1, jobs: cpu(64, 6), unit: 'ms' },
      { id: 'transfer-64mib', name: 'one 64 MiB input moved to a worker, 1 thread', task: 'byte-length', threads: 1, calls: 5, jobs: times(1, () => bytes(64 << 20, 1)), unit: 'ms' },
      { id: 'sha256-200x1mib', name: 'SHA-256 of 200 x 1 MiB moved, 2 threads', task: 'sha256', threads: 2, calls: 1, jobs: times(200, (i) => bytes(1 << 20, i)), unit: 'ms' },
    ];
    const out: Comparison[] = [];
    for (const w of workloads) out.push(...(await measureWorkload(ctx, w)));
    return out;
  },
};
