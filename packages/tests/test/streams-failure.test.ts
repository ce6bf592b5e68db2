// Failure semantics, cancellation, scale, module loading and bad input of the coordinator.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, Mutex, StreamCoordinator, type StreamSpec } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();
let coordinator: StreamCoordinator | undefined;

describe('failure', () => {
  it('a throwing stream fails alone, keeping its error name, message, code and stack', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const [ok, bad] = await coordinator.executeParallel([
      { id: 'ok', durationMs: 30 },
      { id: 'bad', task: streamModule('throws.mjs'), input: 7 },
    ]);
    expect(ok!.status).toBe('complete');
    expect(bad!.status).toBe('failed');
    expect(bad!.error).toMatchObject({ name: 'RangeError', message: 'bad input 7', code: 'E_BAD' });
    expect(bad!.error!.stack).toContain('throws.mjs');
  });

  it('a failed stream breaks ctx.barrier: the others fail with BrokenBarrierError instead of hanging', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 3 }));
    const slots = new SharedArrayBuffer(12);
    const input = (index: number, failAt?: number) => ({ slots, index, parties: 3, rounds: 5, failAt });
    const results = await coordinator.executeParallel([
      { id: 'a', task: streamModule('barrier-rounds.mjs'), input: input(0) },
      { id: 'b', task: streamModule('barrier-rounds.mjs'), input: input(1) },
      { id: 'quitter', task: streamModule('barrier-rounds.mjs'), input: input(2, 3) },
    ]);
    expect(results.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    expect(results[0]!.error!.name).toBe('BrokenBarrierError');
    expect(results[1]!.error!.name).toBe('BrokenBarrierError');
    expect(results[2]!.error!.message).toContain('gives up at round 3');
  });

  it('a stream module that cannot be loaded fails that stream with an error naming the module', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const [missing, notFn] = await coordinator.executeParallel([
      { id: 'missing', task: streamModule('no-such-module.mjs') },
      { id: 'not-fn', task: streamModule('not-a-function.mjs') },
    ]);
    expect(missing!.status).toBe('failed');
    expect(missing!.error!.message).toContain('no-such-module.mjs');
    expect(notFn!.error!.message).toMatch(/not-a-function\.mjs has no function export "default"/);
  });
});

describe('cancellation', () => {
  it('aborting a CPU-bound run settles every stream as cancelled within a second', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2, cancelGraceMs: 100 }));
    const ac = new AbortController();
    const running = coordinator.executeParallel(
      [
        { id: 'deaf1', task: streamModule('spin.mjs') },
        { id: 'deaf2', task: streamModule('spin.mjs') },
        { id: 'polite', task: streamModule('cooperative.mjs') },
        { id: 'queued', durationMs: 10 },
      ],
      { signal: ac.signal },
    );
    // Wait (bounded by the test timeout) until both threads are busy, then abort.
    while (coordinator.registry.list().filter((r) => r.state === 'running').length < 2) await new Promise((r) => setTimeout(r, 5));
    const abortedAt = Date.now();
    ac.abort(new RangeError('the user pressed stop'));
    const results = await running;
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    expect(results.map((r) => r.status)).toEqual(['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    // Each result carries the caller's own abort reason.
    for (const r of results) expect(r.error).toMatchObject({ name: 'RangeError', message: 'the user pressed stop' });
  });

  it('close() during a run without a signal ends an uncooperative stream as cancelled', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 1, cancelGraceMs: 50 }));
    const run = coordinator.executeParallel([{ id: 'endless', task: streamModule('spin.mjs') }]);
    while (coordinator.registry.get('endless')?.state !== 'running') await new Promise((r) => setTimeout(r, 5));
    const closing = Date.now();
    await coordinator.close();
    expect((await run)[0]!.status).toBe('cancelled');
    expect(Date.now() - closing).toBeLessThan(5_000);
  });

  it('a lock held by a terminated stream is recovered: the next holder sees ownerDied', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 1, cancelGraceMs: 20 }));
    const lock = new Mutex();
    const ac = new AbortController();
    const running = coordinator.executeParallel([{ id: 'holder', task: streamModule('hold-lock.mjs'), input: { lock: lock.handle } }], {
      signal: ac.signal,
    });
    while (!lock.isLocked) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    expect((await running)[0]!.status).toBe('cancelled');
    const guard = await lock.lockAsync({ timeoutMs: 5_000 });
    expect(guard.ownerDied).toBe(true);
    guard.unlock();
  });
});

describe('scale and modules', () => {
  it('runs 100 streams on 2 threads, each exactly once', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const streams: StreamSpec[] = Array.from({ length: 100 }, (_, i) => ({ id: `s${i}`, task: streamModule('echo.mjs'), input: i }));
    const results = await coordinator.executeParallel(streams);
    expect(results.map((r) => (r.value as { input: number }).input)).toEqual(streams.map((_, i) => i));
    expect(results.every((r) => r.status === 'complete' && r.attempts === 1)).toBe(true);
    const threads = new Set(results.map((r) => (r.value as { threadId: number }).threadId));
    expect(threads.size).toBeLessThanOrEqual(2);
  });

  it('loads JavaScript, TypeScript and named-export stream modules', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const [js, ts, named] = await coordinator.executeParallel([
      { id: 'js', task: streamModule('echo.mjs'), input: 'hi' },
      { id: 'ts', task: streamModule('typed.ts'), input: { n: 12 } },
      { id: 'named', task: new URL('../fixtures/streams/echo.mjs', import.meta.url), export: 'shout', input: 'hi' },
    ]);
    expect(js!.value).toMatchObject({ input: 'hi', id: 'js', attempt: 1 });
    expect(ts!.value).toEqual({ id: 'ts', square: 144 });
    expect(named!.value).toBe('HI');
  });

  it('keeps a live registry of the run', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const run = coordinator.executeParallel([
      { id: 'first', durationMs: 150 },
      { id: 'second', durationMs: 10 },
    ]);
    while (coordinator.registry.get('first')?.state !== 'running') await new Promise((r) => setTimeout(r, 5));
    const second = coordinator.registry.get('second')!;
    expect(second.state).toBe('queued');
    await run;
    const first = coordinator.registry.get('first')!;
    expect(first.state).toBe('completed');
    expect(first.progress).toBe(1);
    expect(first.lastHeartbeat).toBeGreaterThanOrEqual(first.startedAt!);
  });
});

describe('bad input', () => {
  it('rejects every malformed run with InvalidArgumentError naming the problem', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const c = coordinator;
    await expect(c.executeParallel([])).rejects.toThrow(/streams must be a non-empty array/);
    await expect(c.executeParallel([{ id: 'a' }, { id: 'a' }])).rejects.toThrow(/"a" is a duplicate/);
    await expect(c.executeParallel([{ id: '' }])).rejects.toThrow(/streams\[0\]\.id must be a non-empty string/);
    await expect(c.executeParallel([{ id: 'a', durationMs: -1 }])).rejects.toThrow(/durationMs must be a non-negative finite number/);
    await expect(c.executeParallel([{ id: 'a', durationMs: Infinity }])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(c.executeParallel([{ id: 'a' }], { convergenceType: 'eventual' as never })).rejects.toThrow(
      /convergenceType must be one of barrier, progressive, checkpoint/,
    );
    expect(() => c.configureConvergence({ type: 'checkpoint', intervalMs: 0 })).toThrow(/intervalMs must be a positive finite number/);
    expect(() => new StreamCoordinator({ maxThreads: 0 })).toThrow(/options.maxThreads must be an integer/);
  });

  it('refuses any run once closed', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    await coordinator.executeParallel([{ id: 'a', durationMs: 20 }]);
    await coordinator.close();
    await expect(coordinator.executeParallel([{ id: 'c' }])).rejects.toThrow(/closed/);
  });
});

describe('a stream that cannot start never bricks the coordinator', () => {
  it('an id that cannot be a directory fails that stream; the others run, the next run works, close() resolves', async () => {
    const root = await mkdtemp(join(tmpdir(), 'tributary-brick-'));
    try {
      coordinator = track(new StreamCoordinator({ maxThreads: 2, isolation: { root } }));
      const results = await coordinator.executeParallel([
        { id: 'team/feature', durationMs: 1 },
        { id: 'x'.repeat(300), durationMs: 1 },
        { id: 'fine', durationMs: 1 },
      ]);
      expect(results.map((r) => r.status)).toEqual(['failed', 'failed', 'complete']);
      for (const r of results.slice(0, 2)) expect(r.error!.code).toMatch(/^ERR_TRIBUTARY_/);
      expect((await coordinator.executeParallel([{ id: 'next', durationMs: 1 }]))[0]!.status).toBe('complete');
      await coordinator.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('an input that cannot be cloned fails that stream with InvalidArgumentError', async () => {
    coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const results = await coordinator.executeParallel([
      { id: 'fn', task: streamModule('echo.mjs'), input: { f: () => 1 } },
      { id: 'ok', task: streamModule('echo.mjs'), input: 1 },
    ]);
    expect(results.map((r) => r.status)).toEqual(['failed', 'complete']);
    expect(results[0]!.error).toMatchObject({ name: 'InvalidArgumentError' });
    expect(results[0]!.error!.message).toMatch(/cannot be sent to a worker thread/);
  });
});
