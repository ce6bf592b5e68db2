// The spec's agent integration test, plus recovery, conflicts and bad configuration.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ImplementationAgent, InvalidArgumentError } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();
let agent: ImplementationAgent | undefined;

describe('agent integration', () => {
  it('runs implement_feature as 4 coordinated streams, as the spec writes it', async () => {
    agent = track(new ImplementationAgent({ maxThreads: 4 }));
    agent.configureCoordination({
      convergenceType: 'progressive',
      isolation: 'workspace',
      stateManagement: 'immutable',
      protocols: ['heartbeat', 'registration'],
    });
    const result = await agent.executeTask({ type: 'implement_feature', parallelStreams: 4 });
    expect(result.status).toBe('success');
    expect(result.streamsCompleted).toBe(4);
    expect(result.conflicts).toBe(0);
    expect(result.recoveryAttempts).toBe(0);
    // The merged tree holds every part once, and the shared manifest once.
    const tree = (await readdir(result.outputDirectory!, { recursive: true })).filter((f) => f.includes('.')).sort();
    expect(tree).toEqual([
      'feature.json',
      ...[0, 1, 2, 3].map((i) => `src/feature-1-part-${i}.ts`),
      ...[0, 1, 2, 3].map((i) => `test/feature-1-part-${i}.test.ts`),
    ].sort());
    expect(JSON.parse(await readFile(join(result.outputDirectory!, 'feature.json'), 'utf8'))).toEqual({ feature: 'feature-1', parts: 4 });
  });

  it('a task type that cannot name a directory fails its streams, and the agent stays usable', async () => {
    agent = track(new ImplementationAgent({ maxThreads: 2 }));
    agent.configureCoordination({ isolation: 'workspace' });
    agent.registerTaskType('team/feature', { task: streamModule('echo.mjs') });
    const failed = await agent.executeTask({ type: 'team/feature', parallelStreams: 2 });
    expect(failed.status).toBe('failure');
    expect(failed.streamsCompleted).toBe(0);
    const next = await agent.executeTask({ type: 'implement_feature', parallelStreams: 2 });
    expect(next.status).toBe('success');
  });

  it('recovers a stuck stream: recoveryAttempts 1, still a success', async () => {
    agent = track(new ImplementationAgent({ maxThreads: 3, heartbeatCheckIntervalMs: 25 }));
    agent.configureCoordination({ protocols: ['heartbeat'], heartbeatTimeoutMs: 200 });
    agent.registerTaskType('stuck_feature', { task: streamModule('stuck-feature.mjs') });
    const result = await agent.executeTask({ type: 'stuck_feature', parallelStreams: 3 });
    expect(result).toMatchObject({ status: 'success', streamsCompleted: 3, recoveryAttempts: 1, conflicts: 0 });
    expect(result.streams.map((s) => s.value)).toEqual([1, 2, 1]);
    expect(await readFile(join(result.outputDirectory!, 'part-1.txt'), 'utf8')).toBe('part 1, attempt 2');
  });

  it('counts merge conflicts and says so in the status', async () => {
    agent = track(new ImplementationAgent({ maxThreads: 2 }));
    agent.registerTaskType('colliding', { task: streamModule('colliding-feature.mjs') });
    const result = await agent.executeTask({ type: 'colliding', parallelStreams: 2 });
    expect(result.status).toBe('failure');
    expect(result.conflicts).toBe(1);
    expect(result.reason).toMatch(/1 conflict/);
    // Nothing hidden: both versions are kept in the merged tree.
    expect((await readdir(result.outputDirectory!)).sort()).toEqual(['shared.colliding-1-0.txt', 'shared.colliding-1-1.txt']);
  });

  it('rejects every bad configuration with InvalidArgumentError', async () => {
    agent = track(new ImplementationAgent({ maxThreads: 1 }));
    const a = agent;
    expect(() => a.configureCoordination({ convergenceType: 'eventual' as never })).toThrow(/convergenceType must be one of/);
    expect(() => a.configureCoordination({ isolation: 'container' as never })).toThrow(/config.isolation must be one of workspace, none/);
    expect(() => a.configureCoordination({ stateManagement: 'mutable' as never })).toThrow(InvalidArgumentError);
    expect(() => a.configureCoordination({ protocols: ['heartbeat', 'gossip' as never] })).toThrow(/config.protocols\[1\] must be one of/);
    await expect(a.executeTask({ type: 'implement_feature', parallelStreams: 0 })).rejects.toThrow(/parallelStreams must be an integer/);
    await expect(a.executeTask({ type: 'implement_feature', parallelStreams: 1.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(a.executeTask({ type: 'refactor', parallelStreams: 1 })).rejects.toThrow(/unknown task type "refactor"/);
    expect(() => new ImplementationAgent({ maxThreads: -1 })).toThrow(InvalidArgumentError);
  });
});
