// Issue 15: heartbeat supervision of a live but stuck stream on the cluster, with the options
// and semantics of the in-process StreamCoordinator (heartbeatTimeoutMs, guardian, restartBudget).
// Two tributary-node processes, a real redis-server; the stuck streams spin on a worker thread
// while their node stays alive and keeps renewing its job lock.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClusterCoordinator, type ClusterCoordinatorOptions } from '@tributary/runtime/cluster';
import type { GuardianRequest } from '@tributary/runtime';
import { describeWithRedis, startRedis, type RedisServer } from './redis-harness.js';
import { clusterStream, kill9, startNode, STREAMS_ROOT, type NodeProcess } from './cluster-nodes.js';

const TIMEOUT_MS = 1000;

describeWithRedis('cluster: heartbeat supervision', () => {
  let server: RedisServer;
  const nodes: NodeProcess[] = [];
  const coordinators: ClusterCoordinator[] = [];
  const coordinator = (options: Partial<ClusterCoordinatorOptions> = {}): ClusterCoordinator => {
    const c = new ClusterCoordinator({ connection: server.socket, name: 'supervision', heartbeatTimeoutMs: TIMEOUT_MS, ...options });
    coordinators.push(c);
    return c;
  };

  beforeAll(async () => {
    server = await startRedis();
    for (let i = 0; i < 2; i++) {
      nodes.push(await startNode(['--connection', server.socket, '--name', 'supervision', '--threads', '2', '--allow', STREAMS_ROOT, '--lock-ms', '5000']));
    }
  }, 60_000);
  afterAll(async () => {
    await Promise.all(coordinators.map((c) => c.close()));
    await Promise.all(nodes.map(kill9));
    await server?.stop();
  });

  it('a stream that beats and then spins silent is restarted (attempt 2, resumed from its last details); one that beats through a long run is not', async () => {
    const results = await coordinator().executeParallel(
      [
        { id: 'stuck', task: clusterStream('beat-then-spin.mjs'), input: { beats: 3 } },
        // Runs three timeouts long, beating every 50 ms.
        { id: 'busy', task: clusterStream('beat-often.mjs'), input: { ms: 3 * TIMEOUT_MS } },
      ],
      { timeoutMs: 25_000 },
    );
    expect(results[0]).toMatchObject({ status: 'complete', attempts: 2, value: { attempt: 2, resume: { step: 3 } } });
    expect(results[1]).toMatchObject({ status: 'complete', attempts: 1, value: { attempt: 1 } });
    // The stuck attempt's node ended it and handed the job back (it did not die).
    expect(nodes.flatMap((n) => n.events).filter((e) => e.event === 'restarted').map((e) => [e.stream, e.attempt])).toEqual([['stuck', 1]]);
    expect(nodes.every((n) => n.child.exitCode === null)).toBe(true);
  });

  it('a guardian that answers cancel: the stuck stream is cancelled with the in-process AbortedError, its thread ended', async () => {
    const requests: GuardianRequest[] = [];
    const results = await coordinator({
      guardian: (request) => {
        requests.push(request);
        return { action: 'cancel' };
      },
    }).executeParallel([{ id: 'stuck-c', task: clusterStream('beat-then-spin.mjs'), input: { beats: 2 } }], { timeoutMs: 20_000 });
    expect(results[0]).toMatchObject({
      status: 'cancelled',
      attempts: 1,
      error: { name: 'AbortedError', code: 'ERR_TRIBUTARY_ABORTED', message: 'stream stuck-c was cancelled by the guardian after missing its heartbeat' },
    });
    expect(requests).toHaveLength(1);
    expect(requests[0]).toMatchObject({ streamId: 'stuck-c', reason: 'heartbeat-timeout', timeoutMs: TIMEOUT_MS, details: { step: 2 } });
    expect(requests[0]!.detectedAt - requests[0]!.lastHeartbeat).toBeGreaterThanOrEqual(TIMEOUT_MS);
    // Its node stopped the spinning thread: the node reports the end of that attempt.
    await Promise.any(nodes.map((n) => n.next((e) => e.event === 'end' && e.stream === 'stuck-c', 10_000)));
  });

  it('a stream stuck on every attempt fails with the in-process StreamError once its restart budget is spent', async () => {
    const results = await coordinator({ restartBudget: { maxRestarts: 1, withinMs: 60_000 } }).executeParallel(
      [{ id: 'always', task: clusterStream('beat-then-spin.mjs'), input: { beats: 1, always: true } }],
      { timeoutMs: 25_000 },
    );
    expect(results[0]).toMatchObject({
      status: 'failed',
      attempts: 2,
      error: { name: 'StreamError', code: 'ERR_TRIBUTARY_STREAM', message: 'stream always stopped beating again after 1 restart(s) within 60000 ms: restart budget spent' },
    });
  });

  it('a stream parked at ctx.barrier beats while it waits: not restarted while the others work for three timeouts', async () => {
    const results = await coordinator().executeParallel(
      [
        { id: 'parked', task: clusterStream('wait-at-barrier.mjs') },
        { id: 'worker', task: clusterStream('beat-often.mjs'), input: { ms: 3 * TIMEOUT_MS, barrier: true } },
      ],
      { timeoutMs: 20_000 },
    );
    expect(results.map((r) => [r.status, r.attempts])).toEqual([
      ['complete', 1],
      ['complete', 1],
    ]);
  });
});
