/**
 * Cluster suite: what running streams through Redis and BullMQ (`ClusterCoordinator` and
 * `tributary-node`) costs against one local `StreamCoordinator`, in the same run, rotated order
 * (`measureRotated`), medians.
 *
 * - `cluster.round-trip`: one empty stream through a ClusterCoordinator and two local nodes of
 *   1 thread each, vs one empty stream through a local StreamCoordinator of 1 thread.
 * - `cluster.cpu-vs-local`: 8 streams of ~50 ms fixed CPU work (`work.mjs`, `calibrate`) across
 *   the two nodes, vs the same 8 on a local StreamCoordinator of 2 threads.
 *
 * The suite starts its own redis-server on a Unix socket in a temporary directory (no TCP
 * port, no persistence) and two `tributary-node` child processes, and stops them all at the
 * end; without redis-server, `run()` throws saying how to install it.
 *
 * **Figures** (2026-11-26, the 2-core dev machine, shared with other benchmarks: load 4 to 6;
 * two runs): `cluster.round-trip` 9.9 and 10.5 ms vs 1.16 and 1.13 ms (8.5x, 9.2x);
 * `cluster.cpu-vs-local` 407 vs 442 ms (0.92x) and 523 vs 507 ms (1.03x). CPU-bound work
 * spread over two nodes costs what it costs on two local threads: the fixed per-stream cost
 * (~9 ms) is under 2% of a 50 ms stream, and 8 streams on 2 runners overlap it with work.
 *
 * **What the per-stream cost is made of.** Profiled on one empty stream with two idle nodes
 * (`redis-cli -s <socket> monitor`, ~60 Redis commands per job, most inside BullMQ's Lua
 * scripts; and the node's own `startedAt`/`completedAt` around the coordinator's clock, same
 * host, medians of 40 runs, 8 ms in all):
 * - ~3 ms from `executeParallel` to the node starting the job: the coordinator's `addJob`
 *   script (1 round trip), the queue's marker waking *both* nodes' blocking `BZPOPMIN`, each
 *   running a `moveToActive` script (one wins, the other finds nothing and blocks again), and
 *   BullMQ hydrating the job. Waking is the cost, not Redis: each command takes microseconds.
 * - ~3 ms inside the node: one pipelined read of the run's cancel flag and resume details,
 *   then a Piscina hand-off to a worker thread with a fresh MessageChannel and shared words
 *   (the local StreamCoordinator's whole round trip, ~1.1 ms, is mostly this hand-off).
 * - ~1 ms back: the `moveToFinished` script (which also looks for the next job), its
 *   `completed` event on the events stream, and the coordinator's blocking `XREAD` waking.
 * So the critical path is 4 client round trips (addJob, moveToActive, the run-flag read,
 * moveToFinished) plus 2 blocking wake-ups (marker, events stream); the run's clean-up `DEL`
 * comes after its results. Fewer wake-ups would need BullMQ changes (one marker per
 * waiting node); a first attempt could skip the resume read, leaving the cancel check.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { StreamCoordinator, type StreamSpec } from '@tributary/runtime';
import { ClusterCoordinator } from '@tributary/runtime/cluster';
import { measureRotated } from '../rotate.js';
import { median } from '../stats/index.js';
import { compare, type Comparison, type Suite, type SuiteContext } from '../types.js';
import { calibrate, EMPTY, WORK } from '../workloads/index.js';

const NODES = 2;
const STREAMS = 8;
const TASK_MS = 50;
/** Timed rounds of the round trip (each runs both sides once), after warm-up rounds. */
const TRIP_ROUNDS = 40;
const TRIP_WARMUP = 5;
/** Timed rounds of the CPU-bound runs. */
const CPU_ROUNDS = 7;
/** How long redis-server and each node get to come up before the suite gives up. */
const START_MS = 15_000;
const QUEUE = 'bench';

const INSTALL_HINT =
  'the cluster suite needs redis-server on the PATH; install it with: apt-get update && apt-get install -y redis-server (Debian/Ubuntu) or brew install redis (macOS)';

/** A redis-server and local nodes, for the length of one suite run. */
interface LocalCluster {
  readonly socket: string;
  stop(): Promise<void>;
}

/** The built `tributary-node` (bin.js beside the ./cluster entry). */
function nodeBin(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('@tributary/runtime/cluster'))), 'bin.js');
}

/** Starts redis-server on a private socket and `NODES` nodes of 1 thread allowed to run the workloads. */
async function startCluster(): Promise<LocalCluster> {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Error(INSTALL_HINT);
  const dir = mkdtempSync(join(tmpdir(), 'tributary-bench-redis-'));
  const socket = join(dir, 'redis.sock');
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(
      children.map((c) => {
        if (c.exitCode !== null || c.signalCode !== null) return undefined;
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        return gone;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const redis = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--save', '', '--appendonly', 'no', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(redis);
    // Its log says when it listens ("Ready to accept connections" in 7.2+, "... now ready to accept connections at" in 7.0).
    await ready(redis, 'redis-server', /ready to accept connections/i);
    const allow = dirname(fileURLToPath(WORK));
    await Promise.all(
      Array.from({ length: NODES }, () => {
        const node = spawn(process.execPath, [nodeBin(), '--connection', socket, '--name', QUEUE, '--threads', '1', '--allow', allow], { stdio: ['ignore', 'pipe', 'pipe'] });
        children.push(node);
        return ready(node, 'tributary-node', /"event":"ready"/);
      }),
    );
    return { socket, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resolves once `child` printed a line matching `sign`; rejects if it exits first or takes over `START_MS`. */
function ready(child: ChildProcess, what: string, sign: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => reject(new Error(`${what} was not ready within ${START_MS} ms: ${stderr}`)), START_MS);
    const exited = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`${what} exited (${code}) before it was ready: ${stderr}`));
    };
    child.once('exit', exited);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      if (!sign.test(line)) return;
      clearTimeout(timer);
      child.off('exit', exited);
      // Keep draining its output (a full pipe would stall it), but stop reading lines.
      lines.close();
      child.stdout!.resume();
      resolve();
    });
  });
}

/** Runs `specs` and throws unless every stream completed (a failed benchmark must not pass as fast). */
async function runAll(coordinator: { executeParallel(s: readonly StreamSpec[]): Promise<{ status: string; error?: { message: string } }[]> }, specs: readonly StreamSpec[]): Promise<void> {
  const results = await coordinator.executeParallel(specs);
  const failed = results.find((r) => r.status !== 'complete');
  if (failed !== undefined) throw new Error(`a benchmark stream did not complete: ${failed.status} ${failed.error?.message ?? ''}`);
}

/** Medians (ms) of the cluster and local sides of one rotated measurement. */
async function clusterVsLocal(ctx: SuiteContext, what: string, cluster: () => Promise<void>, local: () => Promise<void>, rounds: number, warmup: number): Promise<[number, number]> {
  const samples = await measureRotated(
    [
      { name: 'cluster', run: cluster },
      { name: 'local', run: local },
    ],
    { rounds, warmup, progress: (side, round) => ctx.progress(`${what}: ${side}, round ${round + 1}/${rounds}`) },
  );
  return [median(samples[0]!), median(samples[1]!)];
}

/** The cluster suite. See the module documentation. */
export const cluster: Suite = {
  name: 'cluster',
  description: 'streams through Redis/BullMQ and two local tributary-node processes against one local StreamCoordinator',
  async run(ctx) {
    ctx.progress('starting redis-server and two tributary-node processes');
    const local = await startCluster();
    const coordinator = new ClusterCoordinator({ connection: local.socket, name: QUEUE });
    const one = new StreamCoordinator({ maxThreads: 1, minThreads: 1 });
    const two = new StreamCoordinator({ maxThreads: NODES, minThreads: NODES });
    const base = { suite: 'cluster', unit: 'ms' as const, subject: 'ClusterCoordinator', baseline: 'StreamCoordinator' };
    try {
      await coordinator.connect();
      const empty = [{ id: 'empty', task: EMPTY }];
      const [tripCluster, tripLocal] = await clusterVsLocal(ctx, 'empty stream round trip', () => runAll(coordinator, empty), () => runAll(one, empty), TRIP_ROUNDS, TRIP_WARMUP);
      ctx.progress(`calibrating ${TASK_MS} ms of work`);
      const iterations = calibrate(TASK_MS);
      const work = Array.from({ length: STREAMS }, (_, i) => ({ id: `w${i}`, task: WORK, input: { iterations } }));
      const [cpuCluster, cpuLocal] = await clusterVsLocal(ctx, `${STREAMS} x ${TASK_MS} ms`, () => runAll(coordinator, work), () => runAll(two, work), CPU_ROUNDS, 1);
      const results: Comparison[] = [
        compare({ ...base, id: 'cluster.round-trip', name: `empty stream round trip (${NODES} nodes x 1 thread vs 1 local thread)` }, tripCluster, tripLocal),
        compare({ ...base, id: 'cluster.cpu-vs-local', name: `${STREAMS} x ${TASK_MS} ms CPU-bound (${NODES} nodes x 1 thread vs ${NODES} local threads)` }, cpuCluster, cpuLocal),
      ];
      return results;
    } finally {
      await Promise.all([coordinator.close(), one.close(), two.close()]);
      await local.stop();
    }
  },
};
