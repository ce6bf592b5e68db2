// Small runs reuse the memory of finished ones (the run slab): what a stream leaves behind
// after its attempt must never reach the next run, and no run may lose its result to reuse.
import { describe, expect, it } from 'vitest';
import { StreamCoordinator, type StreamResult } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';
import { seeded } from './fuzz-random.js';
import { RunMemoryPool } from '../../runtime/dist/streams/memory-pool.js';

const track = closeAfterEach();

describe('run memory reuse', () => {
  it('a context is inert once its attempt ends: a leftover timer cannot reach the next run', { timeout: 30_000 }, async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, minThreads: 1 }));
    await coordinator.warmUp();
    const report = new SharedArrayBuffer(5 * 4);
    expect(await coordinator.run({ id: 'leaver', task: streamModule('leave-timer.mjs'), input: { report } })).toBe('left a timer');
    // One thread, runs one after another: the next run takes the memory the last one gave back,
    // and the leftover timer fires while it runs (it waits for this stream to start).
    const [next] = await coordinator.executeParallel([{ id: 'next', task: streamModule('until-flag.mjs'), input: { flag: report } }]);
    expect(next!.value).toBe('saw the flag');
    expect([...new Int32Array(report).subarray(0, 4)]).toEqual([1, 1, 1, 1]);
    // The leftover progress(0.5) went nowhere: the next stream never reported any.
    expect(coordinator.registry.get('next')).toMatchObject({ state: 'completed', progress: 0 });
  });

  it('keeps every result exact while small runs outnumber the slab and threads die under them', { timeout: 60_000 }, async () => {
    const random = seeded('run memory reuse chaos');
    const coordinator = track(new StreamCoordinator({ maxThreads: 2, maxSpareThreads: 0 }));
    const expected: unknown[] = [];
    const runs: Promise<unknown>[] = [];
    // More small runs in flight than the slab has blocks (64), some of them crashing their thread.
    for (let i = 0; i < 300; i++) {
      const crash = random.next() < 0.1;
      const size = 1 + random.below(3);
      const specs = Array.from({ length: size }, (_, k) =>
        crash && k === 0 ? { id: `r${i}-${k}`, task: streamModule('crash.mjs'), input: { how: 'exit' } } : { id: `r${i}-${k}`, task: streamModule('echo.mjs'), input: i * 10 + k },
      );
      expected.push(specs.map((s) => (s.task.endsWith('crash.mjs') ? 'failed' : s.input)));
      runs.push(coordinator.executeParallel(specs).then((results: StreamResult[]) => results.map((r) => (r.status === 'complete' ? (r.value as { input: unknown }).input : r.status))));
    }
    expect(await Promise.all(runs)).toEqual(expected);
    // And the runs after it, one at a time, reuse what is left.
    for (let i = 0; i < 50; i++) expect(await coordinator.run({ id: `after${i}`, task: streamModule('echo.mjs'), input: i })).toMatchObject({ input: i });
  });

  it('holds a block back until every thread that may still write to it has exited', () => {
    const pool = new RunMemoryPool();
    const blockOf = (m: { ref: number | SharedArrayBuffer }): number | SharedArrayBuffer => m.ref;
    const info = (streams: number) => ({ runId: 1, streams, lanes: 0, epochMs: Date.now(), checkpointIntervalMs: 0 });
    pool.threadStarted(7);
    pool.threadStarted(8);
    const first = pool.take(info(1));
    // A run whose lost attempts ran on threads 7 and 8: its block waits for both.
    pool.give(first, new Set([7, 8]));
    const second = pool.take(info(1));
    expect(blockOf(second)).not.toBe(blockOf(first));
    pool.give(second, new Set());
    pool.threadExited(7);
    expect(blockOf(pool.take(info(1)))).toBe(blockOf(second));
    pool.threadExited(8);
    expect(blockOf(pool.take(info(1)))).toBe(blockOf(first));
    // A writer that has exited already holds nothing back.
    const third = pool.take(info(2));
    pool.give(third, new Set([7]));
    expect(blockOf(pool.take(info(2)))).toBe(blockOf(third));
  });
});

