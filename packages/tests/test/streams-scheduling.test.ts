// The scheduler on real threads: more streams than threads meeting at a barrier complete
// (parked streams give their core back), CPU-bound runs never exceed maxThreads, a run whose
// streams can never meet ends in DeadlockError instead of hanging, and runs share a coordinator.
import { describe, expect, it } from 'vitest';
import { DeadlockError, StreamCoordinator, type StreamSpec } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();

/** `n` streams meeting at ctx.barrier for `rounds` rounds over one shared slot array. */
function barrierStreams(n: number, rounds: number, prefix = 's'): StreamSpec[] {
  const slots = new SharedArrayBuffer(4 * n);
  // Starting dozens of spare threads on two busy cores takes seconds: the first meeting waits for them.
  const timeoutMs = n > 16 ? 60_000 : 10_000;
  return Array.from({ length: n }, (_, index) => ({
    id: `${prefix}${index}`,
    task: streamModule('barrier-rounds.mjs'),
    input: { slots, index, parties: n, rounds, timeoutMs },
  }));
}

describe('compensation: a parked stream gives its core back', () => {
  for (const n of [3, 6, 10, 64]) {
    it(`${n} streams meet at ctx.barrier for 3 rounds on maxThreads 2`, { timeout: 90_000 }, async () => {
      const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
      const results = await coordinator.executeParallel(barrierStreams(n, 3));
      expect(results.map((r) => r.status)).toEqual(Array(n).fill('complete'));
      // Every party saw every other party's write at each meeting.
      expect(results.map((r) => (r.value as { missing: number }).missing)).toEqual(Array(n).fill(0));
    });
  }

  it('6 streams meet on the default coordinator, and under heartbeat supervision', async () => {
    const plain = track(new StreamCoordinator());
    expect((await plain.executeParallel(barrierStreams(6, 3))).every((r) => r.status === 'complete')).toBe(true);
    const supervised = track(new StreamCoordinator({ maxThreads: 2, heartbeatTimeoutMs: 300 }));
    const results = await supervised.executeParallel(barrierStreams(6, 3));
    expect(results.map((r) => [r.status, r.attempts])).toEqual(Array(6).fill(['complete', 1]));
  });

  it('a CPU-bound run of 16 streams on maxThreads 2 never has more than 2 running (the streams count it)', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    // Both threads running first: on a loaded machine a thread still starting could miss the
    // whole 240 ms run, and then no two streams would ever overlap (seen once in ten runs).
    await coordinator.warmUp();
    const slots = new SharedArrayBuffer(8);
    const specs = Array.from({ length: 16 }, (_, i) => ({ id: `cpu${i}`, task: streamModule('count-running.mjs'), input: { slots, ms: 15 } }));
    const results = await coordinator.executeParallel(specs);
    expect(results.every((r) => r.status === 'complete')).toBe(true);
    const view = new Int32Array(slots);
    expect(Atomics.load(view, 0)).toBe(0);
    // With two threads free, two streams did overlap; never a third.
    expect(Atomics.load(view, 1)).toBe(2);
  });

  it('maxSpareThreads 0 with 3 parties on 2 threads ends in DeadlockError, not a hang', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2, maxSpareThreads: 0 }));
    const started = Date.now();
    const results = await coordinator.executeParallel(barrierStreams(3, 1));
    // Bounded well inside the 10 s barrier timeout of the fixture: the deadlock was found, not waited out.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(results.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    for (const r of results) expect(r.error).toMatchObject({ name: 'DeadlockError', code: new DeadlockError('').code });
    expect(results[0]!.error!.message).toMatch(/maxSpareThreads/);
    expect(results[0]!.error!.message).toMatch(/s2 \(run \d+\)/);
    // The coordinator is not bricked: the next run works.
    expect((await coordinator.executeParallel([{ id: 'after', durationMs: 1 }]))[0]!.status).toBe('complete');
  });
});

describe('several runs on one coordinator', () => {
  it('two concurrent runs meet at their own barriers and keep their own results', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const [a, b] = await Promise.all([
      coordinator.executeParallel(barrierStreams(3, 4, 'a')),
      coordinator.executeParallel(barrierStreams(4, 4, 'b')),
    ]);
    expect(a.map((r) => [r.id, r.status])).toEqual([['a0', 'complete'], ['a1', 'complete'], ['a2', 'complete']]);
    expect(b.map((r) => r.status)).toEqual(Array(4).fill('complete'));
    expect([...a, ...b].every((r) => (r.value as { missing: number }).missing === 0)).toBe(true);
  });

  it('the registry tells concurrent runs apart', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const first = coordinator.executeParallel([{ id: 'x', durationMs: 200 }]);
    const second = coordinator.executeParallel([{ id: 'x', durationMs: 200 }]);
    const runs = new Set(coordinator.registry.list().map((r) => r.run));
    expect(runs.size).toBe(2);
    await Promise.all([first, second]);
  });

  it('run(spec) resolves with the value, or rejects with the error and its own properties', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    await expect(coordinator.run({ id: 'sq', task: streamModule('echo.mjs'), input: 7 })).resolves.toBeDefined();
    const error = await coordinator.run({ id: 'no', task: streamModule('fails-with-props.mjs') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ message: 'the upstream said no', code: 'E_UPSTREAM', status: 503, details: { retryAfterMs: 250 } });
  });
});
