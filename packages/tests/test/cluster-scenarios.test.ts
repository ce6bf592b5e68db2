// The seed's scenarios on the cluster backend: three tributary-node processes on this machine,
// a ClusterCoordinator, a real redis-server on a Unix socket.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ClusterCoordinator } from '@tributary/runtime/cluster';
import type { StreamResult } from '@tributary/runtime';
import { describeWithRedis } from './redis-harness.js';
import { clusterStream, useCluster } from './cluster-nodes.js';

describeWithRedis('cluster: the seed scenarios across three nodes', () => {
  const cluster = useCluster({ name: 'scenarios', nodes: 3, nodeArgs: () => ['--lock-ms', '2000'] });
  const { nodes } = cluster;
  const coordinator = (options: Partial<ConstructorParameters<typeof ClusterCoordinator>[0]> = {}): ClusterCoordinator => cluster.coordinator(options);

  it('scenario 1: barrier convergence; echo modules and simulate streams spread over the nodes', async () => {
    const c = coordinator();
    const results = await c.executeParallel(
      [
        ...Array.from({ length: 6 }, (_, i) => ({ id: `e${i}`, task: clusterStream('echo.mjs'), input: { n: i } })),
        { id: 'sim', durationMs: 100 },
      ],
      { timeoutMs: 20_000 },
    );
    expect(results.map((r) => r.status)).toEqual(Array(7).fill('complete'));
    expect(results.slice(0, 6).map((r) => (r.value as { input: unknown }).input)).toEqual([0, 1, 2, 3, 4, 5].map((n) => ({ n })));
    expect(results.every((r) => r.attempts === 1)).toBe(true);
    // Some stream ran on a node other than the first's (work is spread).
    expect(new Set(results.slice(0, 6).map((r) => (r.value as { pid: number }).pid)).size).toBeGreaterThan(1);
  });

  it('scenario 1b: streams meet at ctx.barrier round after round, across nodes', async () => {
    const c = coordinator();
    const results = await c.executeParallel(
      Array.from({ length: 3 }, (_, i) => ({ id: `s${i}`, task: clusterStream('barrier-rounds.mjs'), input: { rounds: 3 } })),
      { timeoutMs: 30_000 },
    );
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
    expect(results.map((r) => (r.value as { missing: number }).missing)).toEqual([0, 0, 0]);
  });

  it('a failed stream breaks ctx.barrier: the others fail with BrokenBarrierError instead of hanging', async () => {
    const c = coordinator();
    const results = await c.executeParallel(
      Array.from({ length: 3 }, (_, i) => ({ id: `s${i}`, task: clusterStream('barrier-rounds.mjs'), input: { rounds: 3, failAt: i === 0 ? 2 : undefined } })),
      { timeoutMs: 30_000 },
    );
    expect(results[0]!.status).toBe('failed');
    expect(results.slice(1).map((r) => r.error?.name)).toEqual(['BrokenBarrierError', 'BrokenBarrierError']);
  });

  it('scenario 2: race prevention: read-modify-writes of one file from every node, under ctx.mutex with fencing tokens', async () => {
    const c = coordinator();
    const dir = mkdtempSync(join(tmpdir(), 'tributary-count-'));
    const file = join(dir, 'count.json');
    writeFileSync(file, JSON.stringify({ count: 0, token: 0 }));
    const name = `count-${Date.now()}`;
    try {
      const results = await c.executeParallel(
        Array.from({ length: 6 }, (_, i) => ({ id: `w${i}`, task: clusterStream('guarded-count.mjs'), input: { file, name, times: 10 } })),
        { timeoutMs: 30_000 },
      );
      expect(results.map((r) => r.status)).toEqual(Array(6).fill('complete'));
      expect(JSON.parse(readFileSync(file, 'utf8')).count).toBe(60);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('scenario 3: progressive results as streams settle; a throwing stream keeps its error', async () => {
    const c = coordinator();
    const seen: StreamResult[] = [];
    for await (const r of c.stream([
      { id: 'slow', durationMs: 3000 },
      { id: 'fast', durationMs: 10 },
      { id: 'bad', task: clusterStream('throws.mjs'), input: 7 },
    ])) seen.push(r);
    expect(seen.map((r) => r.id).indexOf('slow')).toBe(2);
    const bad = seen.find((r) => r.id === 'bad')!;
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatchObject({ name: 'RangeError', message: 'bad input 7', code: 'E_BAD' });
  });

  it('scenario 4: versioned state updated from every node loses nothing', async () => {
    const c = coordinator({ name: 'scenarios' });
    const before = (await c.state.current()).version;
    const results = await c.executeParallel(
      Array.from({ length: 6 }, (_, i) => ({ id: `u${i}`, task: clusterStream('state-increment.mjs'), input: { times: 5, blocking: i % 2 === 0 } })),
      { timeoutMs: 30_000 },
    );
    expect(results.map((r) => r.status)).toEqual(Array(6).fill('complete'));
    const now = await c.state.current();
    expect(now.version - before).toBe(30);
    expect((now.state as { counter?: number }).counter).toBeGreaterThanOrEqual(30);
  });

  it('scenario 7: resource negotiation across nodes: negotiated, refused, queued until released', async () => {
    const c = coordinator({ resources: { cpu: 4 } });
    await c.connect();
    // The coordinator holds 3 of the 4 cpus while the streams negotiate on the nodes.
    expect(await c.resources!.requestResources('main', { cpu: 3 })).toMatchObject({ granted: true });
    const first = await c.executeParallel(
      [
        { id: 'b', task: clusterStream('negotiate.mjs'), input: { request: { cpu: 2 }, min: { cpu: 1 } } },
        { id: 'd', task: clusterStream('negotiate.mjs'), input: { request: { cpu: 5 } } },
      ],
      { timeoutMs: 20_000 },
    );
    expect(first[0]!.value).toMatchObject({ granted: true, negotiated: true, allocation: { cpu: 1 } });
    expect(first[1]!.value).toMatchObject({ granted: false, reason: 'exceeds-capacity' });
    // b's grant ended with its attempt; main still holds 3, so c (4 cpus) queues until main lets go.
    expect(await c.resources!.holdings('b')).toEqual({});
    const second = c.executeParallel([{ id: 'c', task: clusterStream('negotiate.mjs'), input: { request: { cpu: 4 }, waitMs: 15_000 } }], { timeoutMs: 20_000 });
    for (const until = Date.now() + 10_000; (await c.resources!.queued()) === 0; ) {
      if (Date.now() > until) throw new Error('c never queued');
      await new Promise((r) => setTimeout(r, 10));
    }
    await c.resources!.releaseResources('main');
    expect((await second)[0]!.value).toMatchObject({ granted: true, negotiated: false, message: 'granted in full after queueing' });
  });

  it('scenario 8: checkpoint convergence reports every stream\'s progress each interval', async () => {
    const c = coordinator();
    const records: { epoch: number; progress: Record<string, number>; lagging: readonly string[] }[] = [];
    c.configureConvergence({ type: 'checkpoint', intervalMs: 400, callback: ((r: (typeof records)[number]) => records.push(r)) as never });
    const results = await c.executeParallel(
      Array.from({ length: 3 }, (_, i) => ({ id: `c${i}`, task: clusterStream('cooperative.mjs'), input: { ms: 3000 } })),
      { timeoutMs: 30_000 },
    );
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.map((r) => r.epoch)).toEqual(records.map((_, i) => i + 1));
    const mid = records[1]!;
    expect(Object.keys(mid.progress).sort()).toEqual(['c0', 'c1', 'c2']);
    expect(Object.values(mid.progress).some((p) => p > 0 && p < 1)).toBe(true);
  });

  it('aborting a run cancels running CPU-bound streams within a few seconds', async () => {
    const c = coordinator();
    const controller = new AbortController();
    const running = c.executeParallel(
      Array.from({ length: 3 }, (_, i) => ({ id: `a${i}`, task: clusterStream('spin.mjs'), input: { ms: 60_000 } })),
      { signal: controller.signal },
    );
    // Some node has started one of them (which node takes which job is up to the queue).
    await Promise.any(nodes.map((n) => n.next((e) => e.event === 'start' && String(e.stream).startsWith('a'))));
    const t0 = Date.now();
    controller.abort();
    const results = await running;
    expect(results.map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
