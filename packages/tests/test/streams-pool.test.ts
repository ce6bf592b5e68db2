// Pool knobs reach the threads, and metrics() reports what the pool did.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StreamCoordinator } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();

describe('pool options', () => {
  it('env, execArgv and resourceLimits reach every stream thread', async () => {
    const coordinator = track(
      new StreamCoordinator({
        maxThreads: 1,
        env: { TRIBUTARY_PROBE: 'seen' },
        execArgv: ['--no-warnings'],
        resourceLimits: { maxOldGenerationSizeMb: 96 },
      }),
    );
    const value = await coordinator.run({ id: 'probe', task: streamModule('thread-probe.mjs') });
    expect(value).toEqual({ env: 'seen', maxOld: 96, execArgv: ['--no-warnings'] });
  });

  it('refuses malformed options at construction', () => {
    expect(() => new StreamCoordinator({ env: { A: 1 as never } })).toThrow(InvalidArgumentError);
    expect(() => new StreamCoordinator({ execArgv: '--x' as never })).toThrow(/options.execArgv/);
    expect(() => new StreamCoordinator({ resourceLimits: { maxOldGenerationSizeMb: -1 } })).toThrow(/maxOldGenerationSizeMb/);
    expect(() => new StreamCoordinator({ resourceLimits: { heap: 5 } as never })).toThrow(/is not a limit/);
  });
});

describe('maxStreamsPerThread', () => {
  it('recycles a thread after N attempts without losing any result', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, maxStreamsPerThread: 2 }));
    const results = await coordinator.executeParallel(Array.from({ length: 7 }, (_, i) => ({ id: `e${i}`, task: streamModule('echo.mjs'), input: i })));
    expect(results.map((r) => r.status)).toEqual(Array(7).fill('complete'));
    expect(results.map((r) => (r.value as { input: number }).input)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    const perThread = new Map<number, number>();
    for (const r of results) {
      const thread = (r.value as { threadId: number }).threadId;
      perThread.set(thread, (perThread.get(thread) ?? 0) + 1);
    }
    // The warm thread may have run one warm-up attempt first, so the first thread runs 1 or 2.
    expect(Math.max(...perThread.values())).toBeLessThanOrEqual(2);
    expect(perThread.size).toBeGreaterThanOrEqual(4);
  });

  it('a retiring thread still moves its result back', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, maxStreamsPerThread: 1 }));
    const value = await coordinator.run<{ bytes: Uint8Array }>({ id: 'make', task: streamModule('make-buffer.mjs'), input: { size: 1 << 20 } });
    expect(value.bytes.byteLength).toBe(1 << 20);
    expect(value.bytes[12345]).toBe(12345 % 251);
  });
});

describe('metrics()', () => {
  it('counts completed attempts and reports run and queue-wait times', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    expect(coordinator.metrics()).toMatchObject({ running: 0, queued: 0, completed: 0 });
    await coordinator.executeParallel(Array.from({ length: 6 }, (_, i) => ({ id: `s${i}`, durationMs: 20 })));
    const m = coordinator.metrics();
    expect(m).toMatchObject({ running: 0, queued: 0, completed: 6 });
    // One thread, six 20 ms streams: the later ones queued behind the earlier ones.
    expect(m.runTime.p50).toBeGreaterThanOrEqual(15);
    expect(m.waitTime.max).toBeGreaterThanOrEqual(60);
    expect(m.threads).toBeGreaterThanOrEqual(1);
  });
});
