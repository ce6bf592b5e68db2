// Scenarios 4, 5 and 7 of the spec, standalone and across real worker threads.
import { describe, expect, it } from 'vitest';
import {
  CapacityError,
  HeartbeatProtocol,
  ImmutableStateManager,
  InvalidArgumentError,
  InvalidStateError,
  Mutex,
  ResourceNegotiationProtocol,
  StreamCoordinator,
  type GuardianRequest,
  type ResourceGrant,
} from '@tributary/runtime';
import { closeAfterEach, runWorker, runWorkers, streamModule } from './helpers.js';

const sync = 'sync-ops.mjs';
const track = closeAfterEach();
let coordinator: StreamCoordinator | undefined;

describe('scenario 4: immutable shared state', () => {
  it('100 parallel updates lose nothing and history is capped at 10 versions', async () => {
    const manager = new ImmutableStateManager();
    const increment = (s: Record<string, unknown>) => ({ ...s, counter: ((s.counter as number) ?? 0) + 1 });
    await Promise.all(Array.from({ length: 100 }, (_, i) => manager.createNewVersion(increment, `stream_${i}`)));
    expect(manager.getCurrentState()).toEqual({ counter: 100 });
    expect(manager.stateVersions.length).toBeLessThanOrEqual(10);
    expect(manager.stateVersions.map((v) => v.version)).toEqual([91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
  });

  it('4 workers x 2,500 blocking updates: exact total, versions only grow', async () => {
    const manager = new ImmutableStateManager({ initial: { counter: 0 }, maxVersions: 5 });
    const results = await runWorkers<{ backwards: number }>(sync, 4, { op: 'state', handle: manager.handle, iterations: 2_500 });
    expect(results.map((r) => r.backwards)).toEqual([0, 0, 0, 0]);
    expect(manager.getCurrentState()).toEqual({ counter: 10_000 });
    expect(manager.version).toBe(10_000);
    expect(manager.stateVersions).toHaveLength(5);
  });

  it('100 streams update ctx.state on 2 threads with an exact result', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const results = await coordinator.executeParallel(
      Array.from({ length: 100 }, (_, i) => ({ id: `stream_${i}`, task: streamModule('state-increment.mjs'), input: { times: 1, blocking: i % 2 === 0 } })),
    );
    expect(results.every((r) => r.status === 'complete')).toBe(true);
    expect(coordinator.state.getCurrentState()).toEqual({ counter: 100 });
    expect(new Set(results.map((r) => r.value)).size).toBe(100);
  });

  it('versions are frozen, waitable, and bad states are refused without storing anything', async () => {
    const manager = new ImmutableStateManager({ capacityBytes: 128 });
    const waiting = manager.waitForVersion(1, { timeoutMs: 5_000 });
    const v1 = await manager.createNewVersion((s) => ({ ...s, a: 1 }), 'writer');
    expect((await waiting).version).toBe(1);
    expect(Object.isFrozen(v1.state)).toBe(true);
    await expect(manager.createNewVersion(() => ({ big: 'x'.repeat(200) }), 'w')).rejects.toBeInstanceOf(CapacityError);
    await expect(manager.createNewVersion(() => undefined as never, 'w')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(manager.createNewVersion((s) => s, '')).rejects.toBeInstanceOf(InvalidArgumentError);
    expect(manager.version).toBe(1);
    expect(() => new ImmutableStateManager({ maxVersions: 0 })).toThrow(/options.maxVersions must be an integer/);
  });
});

describe('scenario 5: heartbeat and recovery', () => {
  it('invokes the guardian once a stream stops beating, within timeout + check interval', async () => {
    const protocol = new HeartbeatProtocol({ timeoutMs: 100, checkIntervalMs: 20 });
    try {
      const invoked = new Promise<GuardianRequest>((resolve) => {
        protocol.invokeGuardian = (request) => {
          resolve(request);
          return { action: 'recovered' };
        };
      });
      protocol.sendHeartbeat('stream1', { status: 'running' });
      await new Promise((r) => setTimeout(r, 50));
      protocol.sendHeartbeat('stream1', { status: 'running' });
      const lastBeat = protocol.lastHeartbeat('stream1')!;
      const request = await invoked;
      expect(request).toMatchObject({ streamId: 'stream1', reason: 'heartbeat-timeout', details: { status: 'running' } });
      const late = request.detectedAt - lastBeat;
      // Stuck means silent for at least timeoutMs; noticed within one check interval after that
      // (plus slack for timer jitter on a loaded 2-core machine).
      expect(late).toBeGreaterThanOrEqual(100);
      expect(late).toBeLessThanOrEqual(100 + 20 + 100);
    } finally {
      protocol.close();
    }
  });

  it('beats from a worker thread through a sender handle keep the guardian away', async () => {
    const calls: string[] = [];
    const protocol = new HeartbeatProtocol({ timeoutMs: 10_000, guardian: (r) => void calls.push(r.streamId) });
    try {
      const handle = protocol.senderFor('remote');
      const before = protocol.lastHeartbeat('remote')!;
      await runWorker(sync, { op: 'beat', handle, times: 10 });
      expect(protocol.lastHeartbeat('remote')!).toBeGreaterThanOrEqual(before);
      protocol.check();
      expect(calls).toEqual([]);
    } finally {
      protocol.close();
    }
  });

  it('rejects bad options', () => {
    expect(() => new HeartbeatProtocol({ timeoutMs: 0 })).toThrow(/options.timeoutMs must be a positive finite number/);
    expect(() => new HeartbeatProtocol({ timeoutMs: 10, guardian: 5 as never })).toThrow(InvalidArgumentError);
  });

  it('restarts a stuck CPU-bound stream, which completes on its second attempt with its last details', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2, heartbeatTimeoutMs: 150, heartbeatCheckIntervalMs: 25 }));
    const [result] = await coordinator.executeParallel([{ id: 'stuck', task: streamModule('stuck-once.mjs') }]);
    expect(result!.status).toBe('complete');
    expect(result!.attempts).toBe(2);
    expect(result!.value).toEqual({ attempt: 2, resume: { step: 41 } });
    expect(coordinator.lastRunStats.recoveryAttempts).toBe(1);
  });

  it('fails the stream once the restart budget is spent', async () => {
    coordinator = track(new StreamCoordinator({
      maxThreads: 1,
      heartbeatTimeoutMs: 100,
      heartbeatCheckIntervalMs: 20,
      restartBudget: { maxRestarts: 2, withinMs: 60_000 },
    }));
    const [result] = await coordinator.executeParallel([{ id: 'hopeless', task: streamModule('spin.mjs') }]);
    expect(result!.status).toBe('failed');
    expect(result!.error!.message).toMatch(/restart budget spent/);
    expect(result!.attempts).toBe(3);
  });

  it('a stuck stream terminated while holding a lock: another stream then takes it, told ownerDied', async () => {
    coordinator = track(new StreamCoordinator({
      maxThreads: 2,
      heartbeatTimeoutMs: 150,
      heartbeatCheckIntervalMs: 25,
      guardian: (r) => ({ action: r.streamId === 'holder' ? 'cancel' : 'ignore' }),
    }));
    const lock = new Mutex();
    const held = new SharedArrayBuffer(4);
    const running = coordinator.executeParallel([
      { id: 'holder', task: streamModule('hold-lock.mjs'), input: { lock: lock.handle, held } },
      { id: 'taker', task: streamModule('take-lock.mjs'), input: { lock: lock.handle, held } },
    ]);
    const [holder, taker] = await running;
    expect(holder!.status).toBe('cancelled');
    expect(taker).toMatchObject({ status: 'complete', value: { ownerDied: true } });
    expect(lock.isLocked).toBe(false);
  });

  it('a custom guardian may cancel instead', async () => {
    const seen: string[] = [];
    coordinator = track(new StreamCoordinator({
      maxThreads: 1,
      heartbeatTimeoutMs: 100,
      heartbeatCheckIntervalMs: 20,
      guardian: (r) => {
        seen.push(r.streamId);
        return { action: 'cancel' };
      },
    }));
    const [result] = await coordinator.executeParallel([{ id: 'deaf', task: streamModule('spin.mjs') }]);
    expect(result!.status).toBe('cancelled');
    expect(seen).toEqual(['deaf']);
  });
});

describe('scenario 7: resource negotiation', () => {
  it('grants, then refuses, as the spec writes it', async () => {
    const negotiator = new ResourceNegotiationProtocol();
    negotiator.resourcePool = { cpu_cores: 4, memory_mb: 8192 };
    const r1 = await negotiator.requestResources('stream1', { cpu_cores: 2, memory_mb: 4096 });
    expect(r1.granted).toBe(true);
    const r2 = await negotiator.requestResources('stream2', { cpu_cores: 2, memory_mb: 4096 });
    expect(r2.granted).toBe(true);
    const r3 = await negotiator.requestResources('stream3', { cpu_cores: 2, memory_mb: 4096 });
    expect(r3.message.includes('negotiated') || r3.granted === false).toBe(true);
    expect(r3).toMatchObject({ granted: false, reason: 'insufficient' });
    expect(r3.message).toMatch(/cpu_cores: asked 2, 0 free/);
    expect(() => (negotiator.resourcePool = { cpu_cores: 1 })).toThrow(InvalidStateError);
  });

  it('negotiates a partial grant down to what fits, not below min', async () => {
    const n = new ResourceNegotiationProtocol({ cpu: 4, mem: 8192 });
    await n.requestResources('a', { cpu: 3, mem: 2048 });
    const partial = await n.requestResources('b', { cpu: 2, mem: 4096 }, { min: { cpu: 1, mem: 1024 } });
    expect(partial).toMatchObject({ granted: true, negotiated: true, allocation: { cpu: 1, mem: 4096 } });
    expect(partial.message).toMatch(/negotiated/);
    const tooLittle = await n.requestResources('c', { cpu: 2 }, { min: { cpu: 1 } });
    expect(tooLittle).toMatchObject({ granted: false, reason: 'insufficient' });
    expect(n.available()).toEqual({ cpu: 0, mem: 2048 });
  });

  it('queues a request until a release makes room, or refuses after waitMs', async () => {
    const n = new ResourceNegotiationProtocol({ cpu: 2 });
    await n.requestResources('holder', { cpu: 2 });
    const timedOut = await n.requestResources('late', { cpu: 1 }, { waitMs: 30 });
    expect(timedOut).toMatchObject({ granted: false, reason: 'timed-out' });
    const queued = n.requestResources('patient', { cpu: 2 }, { waitMs: 5_000 });
    expect(await n.releaseResources('holder')).toEqual({ cpu: 2 });
    expect(await queued).toMatchObject({ granted: true, negotiated: false });
    expect(await n.holdings('patient')).toEqual({ cpu: 2 });
    // Release is idempotent.
    await n.releaseResources('patient');
    expect(await n.releaseResources('patient')).toEqual({ cpu: 0 });
    expect(n.available()).toEqual({ cpu: 2 });
  });

  it('refuses impossible and unknown requests at once, never queueing them', async () => {
    const n = new ResourceNegotiationProtocol({ cpu: 2 });
    const started = Date.now();
    expect(await n.requestResources('x', { cpu: 3 }, { waitMs: 10_000 })).toMatchObject({ granted: false, reason: 'exceeds-capacity' });
    expect(await n.requestResources('x', { gpu: 1 }, { waitMs: 10_000 })).toMatchObject({ granted: false, reason: 'unknown-resource' });
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(n.requestResources('x', { cpu: -1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(n.requestResources('', { cpu: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('workers negotiate over the same pool; totals are conserved', async () => {
    const n = new ResourceNegotiationProtocol({ cpu_cores: 4, memory_mb: 8192 });
    const grants = await runWorkers<ResourceGrant>(sync, 3, {
      op: 'negotiate',
      handle: n.handle,
      request: { cpu_cores: 2, memory_mb: 4096 },
      min: { cpu_cores: 1, memory_mb: 1024 },
    });
    expect(grants.filter((g) => g.granted)).toHaveLength(2);
    const held = await Promise.all([0, 1, 2].map((i) => n.holdings(`w${i}`)));
    const cpu = held.reduce((sum, h) => sum + h.cpu_cores!, 0);
    expect(cpu + n.available().cpu_cores!).toBe(4);
  });

  it('a stream\'s grants are released when it ends', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2, resources: { cpu_cores: 4, memory_mb: 8192 } }));
    const results = await coordinator.executeParallel([
      { id: 's1', task: streamModule('negotiate.mjs'), input: { request: { cpu_cores: 2, memory_mb: 4096 }, holdMs: 100 } },
      { id: 's2', task: streamModule('negotiate.mjs'), input: { request: { cpu_cores: 2, memory_mb: 4096 }, holdMs: 100 } },
      { id: 's3', task: streamModule('negotiate.mjs'), input: { request: { cpu_cores: 2, memory_mb: 4096 }, waitMs: 5_000 } },
    ]);
    expect(results.map((r) => (r.value as ResourceGrant).granted)).toEqual([true, true, true]);
    // Released before executeParallel resolved: a request right after the run is not refused.
    expect(coordinator.resources!.available()).toEqual({ cpu_cores: 4, memory_mb: 8192 });
  });
});
