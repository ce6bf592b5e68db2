/**
 * The spec's eight coordination scenarios as live checks on real worker threads, at
 * millisecond scale. Each check runs the mechanism, asserts what the spec asserts, and returns
 * the figure behind its verdict; a failed assertion throws and the row reads FAIL.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ResourceNegotiationProtocol,
  StreamCoordinator,
  type CheckpointRecord,
  type StreamResult,
} from '@tributary/runtime';
import { workloadUrl } from '../workloads/index.js';

/** One row of the validation table. */
export interface Check {
  readonly mechanism: string;
  readonly scenario: string;
  /** Runs the scenario; returns the key figure, throws when an assertion fails. */
  run(): Promise<string>;
}

/** Throws with `message` unless `condition` holds. */
export function verify(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}


/** Runs `body` with a fresh, warmed-up coordinator (thread start-up is not what is measured), always closing it. */
async function withCoordinator<T>(options: ConstructorParameters<typeof StreamCoordinator>[0], body: (c: StreamCoordinator) => Promise<T>): Promise<T> {
  const coordinator = new StreamCoordinator(options);
  try {
    await coordinator.warmUp();
    return await body(coordinator);
  } finally {
    await coordinator.close();
  }
}

/** Runs `body` with a fresh temporary directory, always removing it. */
async function withTempDir<T>(body: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tributary-validate-'));
  try {
    return await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const barrier: Check = {
  mechanism: 'Barrier Convergence',
  scenario: 'All streams wait',
  run: () =>
    withCoordinator({ maxThreads: 3 }, async (c) => {
      const results = await c.executeParallel(
        [
          { id: 'fast', durationMs: 50 },
          { id: 'medium', durationMs: 150 },
          { id: 'slow', durationMs: 250 },
        ],
        { convergenceType: 'barrier' },
      );
      verify(results.every((r) => r.status === 'complete'), 'not every stream completed');
      verify(c.convergenceTime >= 250, `converged at ${c.convergenceTime} ms, before the slowest stream's 250 ms`);
      return `3/3 complete; converged at ${c.convergenceTime} ms (slowest 250 ms)`;
    }),
};

const race: Check = {
  mechanism: 'Race Prevention',
  scenario: 'No file conflicts',
  run: () =>
    withTempDir((dir) =>
      withCoordinator({ maxThreads: 10 }, async (c) => {
        const file = join(dir, 'test.txt');
        const results = await c.executeParallel(Array.from({ length: 10 }, (_, i) => ({ id: `${i}`, task: workloadUrl('append-line'), input: { file } })));
        const conflicts = results.filter((r) => r.status !== 'complete');
        const lines = (await readFile(file, 'utf8')).trim().split('\n');
        verify(conflicts.length === 0, `${conflicts.length} writers failed: ${conflicts[0]?.error?.message}`);
        verify(lines.length === 10 && new Set(lines).size === 10, `${lines.length} lines (${new Set(lines).size} distinct), expected 10`);
        return '10 threads read-modify-write one file: 10/10 lines, 0 conflicts';
      }),
    ),
};

const progressive: Check = {
  mechanism: 'Progressive Convergence',
  scenario: 'Incremental results',
  run: () =>
    withCoordinator({ maxThreads: 3 }, async (c) => {
      const partial: StreamResult[] = [];
      c.configureConvergence({ type: 'progressive', callback: (r: StreamResult) => partial.push(r) });
      const started = Date.now();
      await c.executeParallel([
        { id: 'stream1', durationMs: 100 },
        { id: 'stream2', durationMs: 200 },
        { id: 'stream3', durationMs: 300 },
      ]);
      verify(partial.length === 3, `${partial.length} results delivered, expected 3`);
      verify(partial.map((r) => r.id).join() === 'stream1,stream2,stream3', `delivered in order ${partial.map((r) => r.id).join()}`);
      verify(partial[0]!.completedAt < partial[2]!.completedAt, 'first result not earlier than the last');
      return `3 results in completion order, first after ${partial[0]!.completedAt - started} ms, last after ${partial[2]!.completedAt - started} ms`;
    }),
};

const sharedState: Check = {
  mechanism: 'Shared State',
  scenario: 'Consistent updates',
  run: () =>
    withCoordinator({ maxThreads: 2 }, async (c) => {
      const results = await c.executeParallel(Array.from({ length: 100 }, (_, i) => ({ id: `stream_${i}`, task: workloadUrl('increment') })));
      const counter = c.state.getCurrentState().counter;
      verify(results.every((r) => r.status === 'complete'), 'an update stream failed');
      verify(counter === 100, `counter is ${String(counter)}, expected 100 (lost updates)`);
      verify(c.state.stateVersions.length <= 10, `${c.state.stateVersions.length} versions kept, expected at most 10`);
      return `100 parallel updates: counter ${counter}, ${c.state.stateVersions.length} versions kept (GC)`;
    }),
};

const heartbeat: Check = {
  mechanism: 'Heartbeat/Recovery',
  scenario: 'Stuck detection',
  run: () =>
    withCoordinator({ maxThreads: 1, heartbeatTimeoutMs: 150, heartbeatCheckIntervalMs: 25 }, async (c) => {
      const [result] = await c.executeParallel([{ id: 'stream1', task: workloadUrl('stall-once') }]);
      verify(result!.status === 'complete', `stream ended ${result!.status}: ${result!.error?.message}`);
      verify(c.lastRunStats.recoveryAttempts === 1, `${c.lastRunStats.recoveryAttempts} guardian restarts, expected 1`);
      return `stuck CPU-bound stream restarted by the guardian; completed on attempt ${result!.attempts} after ${result!.completedAt - result!.startedAt} ms (timeout 150)`;
    }),
};

const isolation: Check = {
  mechanism: 'Directory Isolation',
  scenario: 'No path conflicts',
  run: () =>
    withTempDir((dir) =>
      withCoordinator({ maxThreads: 2, isolation: { root: join(dir, 'streams') } }, async (c) => {
        await c.executeParallel([1, 2].map((i) => ({ id: `stream${i}`, task: workloadUrl('write-output') })));
        const merged = await c.isolation!.mergeStreamOutputs({ into: join(dir, 'merged'), onConflict: 'rename' });
        const contents = await Promise.all(merged.map((m) => readFile(join(m.directory, 'output.txt'), 'utf8')));
        verify(merged.length === 2, `${merged.length} streams merged, expected 2`);
        verify(contents[0] === 'stream1 output' && contents[1] === 'stream2 output', 'a stream saw the other stream\'s output.txt');
        verify(merged.every((m) => m.conflicts.includes('output.txt')), 'the same-name conflict was not reported');
        return '2 directories, same file name kept apart; merged with 1 conflict reported (kept both)';
      }),
    ),
};

const resources: Check = {
  mechanism: 'Resource Negotiation',
  scenario: 'Dynamic allocation',
  async run() {
    const negotiator = new ResourceNegotiationProtocol();
    negotiator.resourcePool = { cpu_cores: 4, memory_mb: 8192 };
    const ask = { cpu_cores: 2, memory_mb: 4096 };
    const r1 = await negotiator.requestResources('stream1', ask);
    const r2 = await negotiator.requestResources('stream2', ask);
    const r3 = await negotiator.requestResources('stream3', ask, { min: { cpu_cores: 1, memory_mb: 1024 } });
    verify(r1.granted && r2.granted, 'the first two requests were not granted');
    verify(r3.message.includes('negotiated') || !r3.granted, 'the third request neither negotiated nor refused');
    await negotiator.releaseResources('stream1');
    const r4 = await negotiator.requestResources('stream3', { cpu_cores: 4 }, { min: { cpu_cores: 1 } });
    verify(r4.granted && r4.negotiated && r4.allocation.cpu_cores === 2, `partial grant gave ${JSON.stringify(r4.allocation)}`);
    return `2 granted; 3rd ${r3.granted ? 'negotiated' : 'refused'} (${r3.message.replace(/^refused: /, '')}); after a release, 4 cores negotiated to 2`;
  },
};

const checkpoint: Check = {
  mechanism: 'Checkpoint Convergence',
  scenario: 'Periodic sync',
  run: () =>
    withCoordinator({ maxThreads: 3 }, async (c) => {
      const checkpoints: CheckpointRecord[] = [];
      c.configureConvergence({ type: 'checkpoint', intervalMs: 200, callback: (cp: CheckpointRecord) => checkpoints.push(cp) });
      await c.executeParallel([0, 1, 2].map((i) => ({ id: `stream${i}`, durationMs: 700 })));
      verify(checkpoints.length >= 3, `${checkpoints.length} checkpoints, expected at least 3`);
      verify(checkpoints.every((cp) => cp.timestamp > 0 && cp.streams !== undefined && cp.progress !== undefined), 'a checkpoint lacks timestamp, streams or progress');
      const progress = checkpoints.slice(0, 3).map((cp) => cp.progress.stream0!.toFixed(2));
      return `${checkpoints.length} aligned checkpoints every 200 ms; stream0 progress ${progress.join(' -> ')}`;
    }),
};

/** The eight mechanism checks, in the spec's order. */
export const mechanismChecks: readonly Check[] = [barrier, race, progressive, sharedState, heartbeat, isolation, resources, checkpoint];
