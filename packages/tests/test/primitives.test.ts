import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  Barrier,
  BrokenBarrierError,
  Counter,
  InvalidArgumentError,
  InvalidStateError,
  Latch,
  ResourceError,
  ResourcePool,
  RwLock,
  Semaphore,
  TimeoutError,
} from '@tributary/runtime';
import { runWorker, runWorkers } from './helpers.js';

const sync = 'sync-ops.mjs';

describe('RwLock', () => {
  it('smoke: readers share, a writer excludes', () => {
    const l = new RwLock();
    const r1 = l.tryRead()!;
    const r2 = l.tryRead()!;
    expect(l.tryWrite()).toBeNull();
    r1.unlock();
    r2.unlock();
    const w = l.tryWrite()!;
    expect(l.tryRead()).toBeNull();
    w.unlock();
    expect(() => w.unlock()).toThrow(InvalidStateError);
  });

  it('hammer: 4 workers never see a torn pair; every write counted', async () => {
    const l = new RwLock();
    const data = new SharedArrayBuffer(8);
    const results = await runWorkers<{ torn: number }>(sync, 4, { op: 'rwlock', handle: l.handle, data, iterations: 20_000 });
    expect(results.map((r) => r.torn)).toEqual([0, 0, 0, 0]);
    // Each worker writes on every 4th iteration: 5,000 each.
    expect(new Int32Array(data)[0]).toBe(20_000);
  });

  it('a waiting writer holds back new readers (no writer starvation)', async () => {
    const l = new RwLock();
    const r = l.tryRead()!;
    const writer = l.writeAsync({ timeoutMs: 5_000 });
    // The writer is announced: a new reader must not overtake it.
    expect(l.tryRead()).toBeNull();
    r.unlock();
    const w = await writer;
    expect(w.mode).toBe('write');
    w.unlock();
    expect(l.tryRead()).not.toBeNull();
  });

  it('withRead/withWrite release however the callback ends', async () => {
    const l = new RwLock();
    expect(l.withRead((g) => g.mode)).toBe('read');
    expect(() => l.withWrite(() => { throw new Error('boom'); })).toThrow('boom');
    // Both guards were released: the write lock is free again.
    expect(await l.withWriteAsync(async (g) => g.mode)).toBe('write');
    await expect(l.withReadAsync(async () => { throw new Error('late'); })).rejects.toThrow('late');
    l.tryWrite()!.unlock();
  });

  it('a writer that times out lets held-back readers in', async () => {
    const l = new RwLock();
    const r = l.tryRead()!;
    await expect(l.writeAsync({ timeoutMs: 20 })).rejects.toBeInstanceOf(TimeoutError);
    expect(l.tryRead()).not.toBeNull();
    r.unlock();
  });
});

describe('Semaphore', () => {
  it('smoke: weighted acquire and release, conserved', () => {
    const s = new Semaphore(3);
    expect(s.tryAcquire(2)).toBe(true);
    expect(s.tryAcquire(2)).toBe(false);
    expect(s.available).toBe(1);
    s.release(2);
    expect(s.available).toBe(3);
    expect(() => s.release(1)).toThrow(InvalidStateError);
  });

  it('a permit releases once, by release() or `using`', async () => {
    const s = new Semaphore(2);
    {
      using permit = s.acquire(2);
      expect(permit.permits).toBe(2);
      expect(s.available).toBe(0);
    }
    expect(s.available).toBe(2);
    const p = await s.acquireAsync(1);
    p.release();
    expect(() => p.release()).toThrow(InvalidStateError);
    expect(s.available).toBe(2);
    const q = s.tryAcquirePermit(2)!;
    expect(s.tryAcquirePermit(1)).toBeNull();
    q[Symbol.dispose]();
    expect(s.available).toBe(2);
  });

  it('misuse: bad counts are typed errors', () => {
    const s = new Semaphore(2);
    expect(() => s.tryAcquire(0)).toThrow(InvalidArgumentError);
    expect(() => s.tryAcquire(3)).toThrow(/n must be an integer from 1 to 2/);
    expect(() => new Semaphore(-1)).toThrow(/permits must be an integer/);
  });

  it('hammer: 4 workers never hold more than the capacity, all permits come back', async () => {
    const s = new Semaphore(3);
    const data = new SharedArrayBuffer(4);
    const results = await runWorkers<{ maxSeen: number }>(sync, 4, { op: 'semaphore', handle: s.handle, data, iterations: 10_000 });
    for (const r of results) expect(r.maxSeen).toBeLessThanOrEqual(3);
    expect(s.available).toBe(3);
  });

  it('fairness: a large waiting request is served before later small ones', async () => {
    const s = new Semaphore(4);
    expect(s.tryAcquire(3)).toBe(true);
    const order: string[] = [];
    const big = s.acquireAsync(4, { timeoutMs: 5_000 }).then(() => order.push('big'));
    // Queue non-empty: a small request may not jump ahead even though 1 permit is free.
    expect(s.tryAcquire(1)).toBe(false);
    const small = s.acquireAsync(1, { timeoutMs: 5_000 }).then(() => order.push('small'));
    s.release(3);
    await big;
    expect(order).toEqual(['big']);
    s.release(4);
    await small;
    expect(order).toEqual(['big', 'small']);
    s.release(1);
    expect(s.available).toBe(4);
  });

  it('a waiter that times out or aborts leaves the queue moving', async () => {
    const s = new Semaphore(1);
    s.tryAcquire(1);
    const ac = new AbortController();
    const first = s.acquireAsync(1, { signal: ac.signal });
    const second = s.acquireAsync(1, { timeoutMs: 5_000 });
    ac.abort();
    await expect(first).rejects.toBeInstanceOf(AbortedError);
    s.release(1);
    await second;
    s.release(1);
    expect(s.available).toBe(1);
    expect(s.tryAcquire(1)).toBe(true);
  });
});

describe('Barrier', () => {
  it('smoke: trips when all parties arrive, reports the last one', async () => {
    const b = new Barrier(2);
    const first = b.waitAsync({ timeoutMs: 5_000 });
    expect(b.waiting).toBe(1);
    const second = await b.waitAsync({ timeoutMs: 5_000 });
    expect([await first, second]).toEqual([false, true]);
    expect(b.generation).toBe(1n);
  });

  it('hammer: 4 workers x 500 rounds, every write visible after the barrier, generations monotonic', async () => {
    const b = new Barrier(4);
    const data = new SharedArrayBuffer(16);
    const results = await runWorkers<{ lastCount: number; missing: number; monotonic: boolean }>(sync, 4, {
      op: 'barrier', handle: b.handle, data, rounds: 500, parties: 4,
    });
    expect(results.every((r) => r.missing === 0 && r.monotonic)).toBe(true);
    // Exactly one last arrival per round.
    expect(results.reduce((n, r) => n + r.lastCount, 0)).toBe(500);
    expect(b.generation).toBe(1000n);
  });

  it('a timeout breaks the barrier for everyone (all-or-none) until reset', async () => {
    const b = new Barrier(3);
    const other = runWorker<{ ok: boolean; name: string }>(sync, { op: 'barrierOnce', handle: b.handle, timeoutMs: 10_000 });
    while (b.waiting < 1) await new Promise((r) => setImmediate(r));
    await expect(b.waitAsync({ timeoutMs: 30 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await other).toEqual({ ok: false, name: 'BrokenBarrierError' });
    expect(b.isBroken).toBe(true);
    await expect(b.waitAsync({ timeoutMs: 1_000 })).rejects.toBeInstanceOf(BrokenBarrierError);
    b.reset();
    expect(b.isBroken).toBe(false);
    const [x, y, z] = await Promise.all([b.waitAsync({ timeoutMs: 1000 }), b.waitAsync({ timeoutMs: 1000 }), b.waitAsync({ timeoutMs: 1000 })]);
    expect([x, y, z].filter(Boolean)).toHaveLength(1);
  });

  it('break() wakes a blocked worker with BrokenBarrierError', async () => {
    const b = new Barrier(2);
    const other = runWorker<{ ok: boolean; name: string }>(sync, { op: 'barrierOnce', handle: b.handle, timeoutMs: 10_000 });
    while (b.waiting < 1) await new Promise((r) => setImmediate(r));
    b.break();
    expect(await other).toEqual({ ok: false, name: 'BrokenBarrierError' });
  });

  it('deregister: the remaining parties trip without the one that left, even mid-round', async () => {
    const b = new Barrier(3);
    const first = b.waitAsync({ timeoutMs: 5_000 });
    const second = b.waitAsync({ timeoutMs: 5_000 });
    // Two of three arrived; the third leaves for good, so the round must trip now.
    b.deregister();
    expect((await Promise.all([first, second])).filter(Boolean)).toHaveLength(0);
    expect(b.parties).toBe(2);
    expect(b.generation).toBe(1n);
    const [x, y] = await Promise.all([b.waitAsync({ timeoutMs: 1_000 }), b.waitAsync({ timeoutMs: 1_000 })]);
    expect([x, y].filter(Boolean)).toHaveLength(1);
  });

  it('misuse: bad party counts', () => {
    expect(() => new Barrier(0)).toThrow(/parties must be an integer from 1/);
    expect(() => new Barrier(1.5)).toThrow(InvalidArgumentError);
  });
});

describe('Latch and Counter', () => {
  it('a latch releases every waiting worker at zero', async () => {
    const l = new Latch(2);
    const waiters = runWorkers<{ count: number }>(sync, 3, { op: 'latch', handle: l.handle });
    l.countDown();
    l.countDown();
    expect((await waiters).map((r) => r.count)).toEqual([0, 0, 0]);
    expect(() => l.countDown()).toThrow(InvalidStateError);
    await expect(new Latch(1).waitAsync({ timeoutMs: 10 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('a counter loses no add across 4 workers', async () => {
    const c = new Counter(10n);
    await runWorkers(sync, 4, { op: 'counter', handle: c.handle, iterations: 50_000 });
    expect(c.get()).toBe(200_010n);
    expect(c.compareAndSet(200_010n, 1n)).toBe(true);
    expect(c.compareAndSet(5n, 2n)).toBe(false);
    expect(c.add(2 ** 40)).toBe(2n ** 40n + 1n);
  });
});

describe('ResourcePool', () => {
  it('smoke: all-or-nothing over every dimension', () => {
    const p = new ResourcePool({ cpu: 4, mem: 8192 });
    expect(p.tryAcquire({ cpu: 2, mem: 4096 })).toBe(true);
    expect(p.tryAcquire({ cpu: 2, mem: 4097 })).toBe(false);
    // The failed request took nothing.
    expect(p.available()).toEqual({ cpu: 2, mem: 4096 });
    p.release({ cpu: 2, mem: 4096 });
    expect(p.available()).toEqual(p.capacity);
  });

  it('misuse: unknown resource, impossible request, bad amounts', () => {
    const p = new ResourcePool({ cpu: 4 });
    expect(() => p.tryAcquire({ gpu: 1 })).toThrow(ResourceError);
    expect(() => p.tryAcquire({ cpu: 5 })).toThrow(/can never be granted/);
    expect(() => p.tryAcquire({ cpu: -1 })).toThrow(InvalidArgumentError);
    expect(() => new ResourcePool({})).toThrow(InvalidArgumentError);
  });

  it('hammer: 4 workers with mixed requests never exceed the pool; totals conserved', async () => {
    const p = new ResourcePool({ cpu: 4, mem: 4096 });
    const data = new SharedArrayBuffer(8);
    const results = await runWorkers<{ over: number }>(sync, 4, { op: 'pool', handle: p.handle, data, iterations: 5_000 });
    expect(results.map((r) => r.over)).toEqual([0, 0, 0, 0]);
    expect(p.available()).toEqual({ cpu: 4, mem: 4096 });
  });
});
