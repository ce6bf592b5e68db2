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
