// Issue 15: heartbeat supervision of a live but stuck stream on the cluster, with the options
// and semantics of the in-process StreamCoordinator (heartbeatTimeoutMs, guardian, restartBudget).
// Two tributary-node processes, a real redis-server; the stuck streams spin on a worker thread
// while their node stays alive and keeps renewing its job lock.
import { expect, it } from 'vitest';
import { ClusterCoordinator, type ClusterCoordinatorOptions } from '@tributary/runtime/cluster';
import type { GuardianRequest } from '@tributary/runtime';
import { describeWithRedis } from './redis-harness.js';
import { clusterStream, useCluster } from './cluster-nodes.js';

const TIMEOUT_MS = 1000;

describeWithRedis('cluster: heartbeat supervision', () => {
  // Job locks far longer than the stuck time: what restarts a stuck stream here is supervision, not stall recovery.
  const cluster = useCluster({ name: 'supervision', nodes: 2, nodeArgs: () => ['--lock-ms', '5000'], coordinator: () => ({ heartbeatTimeoutMs: TIMEOUT_MS }) });
  const { nodes } = cluster;
  const coordinator = (options: Partial<ClusterCoordinatorOptions> = {}): ClusterCoordinator => cluster.coordinator(options);

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
