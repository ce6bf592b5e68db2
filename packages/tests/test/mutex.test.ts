import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  InvalidArgumentError,
  InvalidStateError,
  Mutex,
  TimeoutError,
  watchWorker,
} from '@tributary/runtime';
// Arena is internal (no public entry exports it); this test reaches it in the built package.
import { Arena } from '../../runtime/dist/shared/arena.js';
import { firstMessage, runWorker, runWorkers, startWorker } from './helpers.js';

describe('Mutex smoke', () => {
  it('locks, unlocks and reports its state', () => {
    const m = new Mutex();
    expect(m.isLocked).toBe(false);
    const g = m.tryLock();
    expect(g).not.toBeNull();
    expect(g!.ownerDied).toBe(false);
    expect(m.isLocked).toBe(true);
    // Held by us: a second tryLock fails rather than re-entering.
    expect(m.tryLock()).toBeNull();
    g!.unlock();
    expect(m.isLocked).toBe(false);
  });

  it('is released by `using` at the end of the block', () => {
    const m = new Mutex();
    {
      using g = m.tryLock()!;
      expect(g.held).toBe(true);
    }
    expect(m.isLocked).toBe(false);
  });

  it('rebuilds the same lock from its handle, also inside an arena', async () => {
    const arena = new Arena(64);
    const a = new Mutex({ arena });
    const b = new Mutex({ arena });
    const again = Mutex.from(structuredClone(a.handle));
    const g = again.tryLock()!;
    expect(a.isLocked).toBe(true);
    expect(b.isLocked).toBe(false);
    g.unlock();
    expect(a.handle.byteOffset).not.toBe(b.handle.byteOffset);
  });

  it('lockAsync waits on the main thread for a worker to release', async () => {
    const m = new Mutex();
    const flag = new SharedArrayBuffer(8);
    const w = startWorker('mutex-hold.mjs', { handle: m.handle, flag, mode: 'exit' });
    expect(await firstMessage(w)).toBe('holding');
    // The worker holds it and returns to its event loop; lockAsync must wait, not fail.
    const pending = m.lockAsync({ timeoutMs: 10_000 });
    await w.terminate();
    // Without watchWorker the lock stays held by a dead thread: the wait times out.
    await expect(m.lockAsync({ timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    await expect(Promise.race([pending, new Promise((r) => setTimeout(() => r('still waiting'), 100))])).resolves.toBe('still waiting');
  });
});

describe('Mutex hammer', () => {
  it('loses no increment: 4 workers x 25,000 under the lock', async () => {
    const m = new Mutex();
    const data = new SharedArrayBuffer(4);
    await runWorkers('mutex-hammer.mjs', 4, { handle: m.handle, data, iterations: 25_000 }, 25_000);
    expect(new Int32Array(data)[0]).toBe(100_000);
    expect(m.isLocked).toBe(false);
  });

  it('loses no increment with the main thread competing through lockAsync', async () => {
    const m = new Mutex();
    const data = new SharedArrayBuffer(4);
    const view = new Int32Array(data);
    const workers = runWorkers('mutex-hammer.mjs', 2, { handle: m.handle, data, iterations: 20_000 }, 25_000);
    for (let i = 0; i < 2_000; i++) {
      const g = await m.lockAsync({ timeoutMs: 10_000 });
      view[0] = view[0]! + 1;
      g.unlock();
    }
    await workers;
    expect(view[0]).toBe(42_000);
  });
});

describe('Mutex misuse', () => {
  it('a guard unlocks once; dispose after unlock is a no-op', () => {
    const m = new Mutex();
    const g = m.tryLock()!;
    g.unlock();
    expect(() => g.unlock()).toThrow(InvalidStateError);
    expect(() => g[Symbol.dispose]()).not.toThrow();
  });

  it('a blocking lock on the main thread that would wait throws instead of blocking', () => {
    const m = new Mutex();
    const g = m.tryLock()!;
    expect(() => m.lock({ timeoutMs: 10 })).toThrow(InvalidStateError);
    g.unlock();
    // Free: the fast path takes it without blocking, so it is allowed.
    m.lock().unlock();
  });

  it('rejects bad options and foreign handles', () => {
    const m = new Mutex();
    expect(() => m.lock({ timeoutMs: -1 })).toThrow(/options.timeoutMs must be a non-negative finite number/);
    expect(() => m.lock({ timeoutMs: Number.NaN })).toThrow(InvalidArgumentError);
    expect(() => Mutex.from({ kind: 'Barrier', buffer: new SharedArrayBuffer(8), byteOffset: 0 } as never)).toThrow(
      /expected a Mutex handle/,
    );
  });

  it('lockAsync honours timeouts and aborts', async () => {
    const m = new Mutex();
    const g = m.tryLock()!;
    await expect(m.lockAsync({ timeoutMs: 20 })).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const p = m.lockAsync({ signal: ac.signal });
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(AbortedError);
    g.unlock();
    // The abandoned waiters left nothing behind: the lock is free and takeable.
    const again = await m.lockAsync({ timeoutMs: 1000 });
    again.unlock();
  });

  it('a worker blocked on a held lock times out with TimeoutError', async () => {
    const m = new Mutex();
    const g = m.tryLock()!;
    const r = await runWorker<{ ok: boolean; name: string }>('mutex-lock-once.mjs', { handle: m.handle, timeoutMs: 50 });
    expect(r).toMatchObject({ ok: false, name: 'TimeoutError' });
    g.unlock();
  });
});

describe('Mutex crash', () => {
  it('a worker terminated while holding the lock: the next owner gets it with ownerDied', async () => {
    const m = new Mutex();
    const flag = new SharedArrayBuffer(8);
    const holder = startWorker('mutex-hold.mjs', { handle: m.handle, flag, mode: 'spin' });
    watchWorker(holder);
    // Wait (bounded) until the holder says it has the lock.
    await Atomics.waitAsync(new Int32Array(flag), 0, 0, 10_000).value;
    expect(m.isLocked).toBe(true);
    // A second worker is already blocked on the lock when the holder dies.
    const waiter = runWorker<{ ok: boolean; ownerDied: boolean }>('mutex-lock-once.mjs', { handle: m.handle, timeoutMs: 10_000 });
    await holder.terminate();
    expect(await waiter).toEqual({ ok: true, ownerDied: true });
    // The waiter released it cleanly: the next owner sees a normal lock.
    const g = await m.lockAsync({ timeoutMs: 1000 });
    expect(g.ownerDied).toBe(false);
    g.unlock();
  });

  it('a worker that exits holding the lock is recovered for the main thread too', async () => {
    const m = new Mutex();
    const flag = new SharedArrayBuffer(8);
    const holder = startWorker('mutex-hold.mjs', { handle: m.handle, flag, mode: 'exit' });
    watchWorker(holder);
    await firstMessage(holder);
    const pending = m.lockAsync({ timeoutMs: 10_000 });
    await holder.terminate();
    const g = await pending;
    expect(g.ownerDied).toBe(true);
    g.unlock();
  });
});
