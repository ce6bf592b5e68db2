// Time budgets count running time, cancellation reaches cooperative loops at their heartbeat,
// and a convergence callback that throws fails the run instead of killing the process.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CallbackError, StreamCoordinator, TimeoutError } from '@tributary/runtime';
import { closeAfterEach, fixture, streamModule } from './helpers.js';

const track = closeAfterEach();
const run = promisify(execFile);
const TIMEOUT_CODE = new TimeoutError('').code;

describe('timeouts measure running time', () => {
  it('a stream that never beats fails with TimeoutError after its timeoutMs; the others go on', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2, cancelGraceMs: 50 }));
    const results = await coordinator.executeParallel([
      { id: 'stuck', task: streamModule('spin.mjs'), timeoutMs: 200 },
      { id: 'fine', durationMs: 30 },
    ]);
    expect(results[0]).toMatchObject({ status: 'failed', error: { name: 'TimeoutError', code: TIMEOUT_CODE } });
    expect(results[0]!.completedAt - results[0]!.startedAt).toBeGreaterThanOrEqual(200);
    expect(results[1]!.status).toBe('complete');
  });

  it('queue time does not count: a stream queued behind a long one still gets its whole budget', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const results = await coordinator.executeParallel([
      { id: 'first', durationMs: 300 },
      { id: 'second', durationMs: 50, timeoutMs: 250 },
    ]);
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete']);
  });

  it('a cooperative stream hears the timeout at ctx.throwIfAborted() and fails with TimeoutError', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, cancelGraceMs: 60_000 }));
    const [result] = await coordinator.executeParallel([{ id: 'loop', task: streamModule('throw-if-aborted.mjs'), timeoutMs: 100 }]);
    // Settled long before the 60 s grace: it stopped on its own, it was not terminated.
    expect(result!.completedAt - result!.startedAt).toBeLessThan(10_000);
    expect(result!.error).toMatchObject({ name: 'TimeoutError' });
  });

  it('a run timeout cancels queued streams and times out running ones', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, cancelGraceMs: 50 }));
    // A started thread picks 'running' up at once: a stream still waiting for a thread to boot is queued.
    await coordinator.warmUp();
    const results = await coordinator.executeParallel(
      [
        { id: 'running', task: streamModule('spin.mjs') },
        { id: 'queued', durationMs: 1 },
      ],
      { timeoutMs: 150 },
    );
    expect(results.map((r) => r.status)).toEqual(['failed', 'cancelled']);
    expect(results.map((r) => r.error?.name)).toEqual(['TimeoutError', 'TimeoutError']);
  });

  it('heartbeat supervision starts when the stream function is called, not while a TypeScript module loads', async () => {
    // A fresh pool loads tsx in each thread first (hundreds of ms), far past the 100 ms timeout.
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, minThreads: 0, heartbeatTimeoutMs: 100 }));
    const [result] = await coordinator.executeParallel([{ id: 'ts', task: streamModule('typed.ts'), input: { n: 9 } }]);
    expect(result).toMatchObject({ status: 'complete', attempts: 1, value: { square: 81 } });
  });

  it('rejects budgets a timer cannot count', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    await expect(coordinator.executeParallel([{ id: 'a', timeoutMs: 2 ** 31 }])).rejects.toThrow(/timeoutMs is 2147483648 ms; at most 2147483647 ms/);
    await expect(coordinator.executeParallel([{ id: 'a' }], { timeoutMs: -1 })).rejects.toThrow(/options.timeoutMs/);
  });
});

describe('cancellation as documented', () => {
  it('a loop that only beats sees ctx.signal abort at its next heartbeat, long before the grace', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, cancelGraceMs: 60_000 }));
    const ac = new AbortController();
    const running = coordinator.executeParallel([{ id: 'beating', task: streamModule('beat-until-aborted.mjs') }], { signal: ac.signal });
    while (coordinator.registry.get('beating')?.lastHeartbeat === undefined) await new Promise((r) => setTimeout(r, 5));
    const abortedAt = Date.now();
    ac.abort();
    const [result] = await running;
    // It stopped itself (its clean-up ran): a termination after the 60 s grace would take a minute.
    expect(Date.now() - abortedAt).toBeLessThan(10_000);
    expect(result!.status).toBe('cancelled');
  });

  it('a timed-out stream that returns on its own still fails its budget', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, cancelGraceMs: 60_000 }));
    const [result] = await coordinator.executeParallel([{ id: 'b', task: streamModule('beat-until-aborted.mjs'), timeoutMs: 100 }]);
    // A timed-out stream that returns on its own still failed its budget.
    expect(result).toMatchObject({ status: 'failed', error: { name: 'TimeoutError' } });
  });
});

describe('callbacks never kill the process', () => {
  it('a throwing progressive callback rejects the run with CallbackError; the process exits 0', async () => {
    const { stdout } = await run(process.execPath, [fixture('callback-throws.mjs').pathname], { timeout: 30_000 });
    const report = JSON.parse(stdout.trim()) as Record<string, unknown>;
    expect(report).toEqual({ rejected: true, name: 'CallbackError', code: new CallbackError('').code, cause: 'callback bug', running: 0 });
  });

  it('a rejecting checkpoint callback fails the run after every stream settled', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2, cancelGraceMs: 50 }));
    coordinator.configureConvergence({ type: 'checkpoint', intervalMs: 30, callback: async () => Promise.reject(new Error('async bug')) });
    const error = await coordinator.executeParallel([{ id: 'a', durationMs: 2_000 }, { id: 'b', durationMs: 2_000 }]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CallbackError);
    expect((error as Error).cause).toMatchObject({ message: 'async bug' });
    expect(coordinator.registry.list().every((r) => r.state !== 'running' && r.state !== 'queued')).toBe(true);
  });

  it('stream() throws the CallbackError from the loop', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    coordinator.configureConvergence({
      type: 'progressive',
      callback: () => {
        throw new Error('loop bug');
      },
    });
    const seen: string[] = [];
    const consume = async (): Promise<void> => {
      for await (const r of coordinator.stream([{ id: 'a', durationMs: 10 }, { id: 'b', durationMs: 3_000 }])) seen.push(r.id);
    };
    await expect(consume()).rejects.toBeInstanceOf(CallbackError);
    // Results settled before the throw are delivered first: b was cancelled by the failure.
    expect(seen).toEqual(['a', 'b']);
    expect(coordinator.registry.get('b')?.state).toBe('cancelled');
  });
});
