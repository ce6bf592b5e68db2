// The spec's scenarios 1, 3 and 8 (seconds scaled to tens of milliseconds), on real workers.
import { describe, expect, it } from 'vitest';
import { StreamCoordinator, type CheckpointRecord, type StreamResult } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();
let coordinator: StreamCoordinator | undefined;

describe('scenario 1: barrier convergence', () => {
  it('every stream completes before convergence, which takes at least the slowest stream', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 3 }));
    const streams = [
      { id: 'fast', durationMs: 50 },
      { id: 'medium', durationMs: 150 },
      { id: 'slow', durationMs: 250 },
    ];
    const results = await coordinator.executeParallel(streams, { convergenceType: 'barrier' });
    expect(results.map((r) => r.id)).toEqual(['fast', 'medium', 'slow']);
    expect(results.every((r) => r.status === 'complete')).toBe(true);
    expect(coordinator.convergenceTime).toBeGreaterThanOrEqual(250);
    // Each simulate stream really ran for its duration on a worker.
    for (const [i, r] of results.entries()) expect(r.completedAt - r.startedAt).toBeGreaterThanOrEqual(streams[i]!.durationMs);
  });

  it('streams meet at ctx.barrier mid-task, round after round, seeing each other\'s writes', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 3 }));
    const slots = new SharedArrayBuffer(12);
    const results = await coordinator.executeParallel(
      [0, 1, 2].map((index) => ({ id: `s${index}`, task: streamModule('barrier-rounds.mjs'), input: { slots, index, parties: 3, rounds: 50 } })),
    );
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
    expect(results.map((r) => (r.value as { missing: number }).missing)).toEqual([0, 0, 0]);
  });
});

describe('scenario 3: progressive convergence', () => {
  it('delivers each result as its stream completes, in completion order', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 3 }));
    // Every thread started first: completion order must come from the durations alone.
    await coordinator.warmUp();
    const partial: StreamResult[] = [];
    coordinator.configureConvergence({ type: 'progressive', callback: (r: StreamResult) => partial.push(r) });
    const results = await coordinator.executeParallel([
      { id: 'stream3', durationMs: 300 },
      { id: 'stream1', durationMs: 100 },
      { id: 'stream2', durationMs: 200 },
    ]);
    expect(partial).toHaveLength(3);
    expect(partial.map((r) => r.id)).toEqual(['stream1', 'stream2', 'stream3']);
    expect(partial[0]!.completedAt).toBeLessThan(partial[2]!.completedAt);
    // The returned array stays in input order.
    expect(results.map((r) => r.id)).toEqual(['stream3', 'stream1', 'stream2']);
  });

  it('stream() yields results as they come; leaving the loop cancels the rest', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2, cancelGraceMs: 50 }));
    const seen: string[] = [];
    for await (const r of coordinator.stream([
      { id: 'quick', durationMs: 20 },
      { id: 'endless', task: streamModule('spin.mjs'), input: { ms: 60_000 } },
    ])) {
      seen.push(`${r.id}:${r.status}`);
      break;
    }
    expect(seen).toEqual(['quick:complete']);
    expect(coordinator.registry.get('endless')?.state).toBe('cancelled');
  });
});

describe('scenario 8: checkpoint convergence', () => {
  it('takes a checkpoint every interval with every stream\'s progress', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 3 }));
    await coordinator.warmUp();
    const checkpoints: CheckpointRecord[] = [];
    coordinator.configureConvergence({ type: 'checkpoint', intervalMs: 200, callback: (c: CheckpointRecord) => checkpoints.push(c) });
    const ids = ['stream0', 'stream1', 'stream2'];
    const results = await coordinator.executeParallel(ids.map((id) => ({ id, durationMs: 700 })));
    expect(results.every((r) => r.status === 'complete')).toBe(true);
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    for (const cp of checkpoints) {
      expect(cp.timestamp).toBeGreaterThan(0);
      expect(ids).toEqual(expect.arrayContaining([...cp.streams]));
      expect(Object.keys(cp.progress)).toEqual(ids);
    }
    // Every stream calls checkpoint() between slices, so at least one checkpoint aligned all three.
    expect(checkpoints.some((cp) => cp.streams.length === 3 && cp.lagging.length === 0)).toBe(true);
    // Epochs count up and progress never goes back from one checkpoint to the next.
    expect(checkpoints.map((c) => c.epoch)).toEqual(checkpoints.map((_, i) => i + 1));
    for (const [i, cp] of checkpoints.entries()) {
      if (i > 0) for (const id of ids) expect(cp.progress[id]!).toBeGreaterThanOrEqual(checkpoints[i - 1]!.progress[id]!);
    }
    expect(checkpoints.at(-1)!.progress.stream0!).toBeGreaterThan(checkpoints[0]!.progress.stream0!);
  });

  it('reports a stream that never reaches a checkpoint as lagging, without waiting on it', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    await coordinator.warmUp();
    const checkpoints: CheckpointRecord[] = [];
    coordinator.configureConvergence({ type: 'checkpoint', intervalMs: 100, callback: (c: CheckpointRecord) => checkpoints.push(c) });
    const results = await coordinator.executeParallel([
      { id: 'steady', durationMs: 450 },
      { id: 'deaf', task: streamModule('spin.mjs'), input: { ms: 450 } },
    ]);
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete']);
    expect(checkpoints.length).toBeGreaterThanOrEqual(2);
    // 'deaf' never calls checkpoint(): wherever it was running at a release, it is lagging.
    expect(checkpoints.some((cp) => cp.lagging.includes('deaf'))).toBe(true);
  });
});
