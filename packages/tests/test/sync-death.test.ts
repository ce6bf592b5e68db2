// Thread death through the watchWorker path: a dead queued waiter never wedges a queue, a dead
// holder's share comes back and the next holder is told ownerDied. Each worker dies by
// process.exit at a chosen point (sync-die.mjs), so nothing runs after it: no finally, no dispose.
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Barrier, BrokenBarrierError, Latch, ResourceNegotiationProtocol, ResourcePool, RwLock, Semaphore, watchWorker } from '@tributary/runtime';
import { startWorker } from './helpers.js';

/** Runs sync-die.mjs watched, and resolves once it has died and been recovered. */
async function dies(data: object): Promise<void> {
  const worker = startWorker('sync-die.mjs', data);
  watchWorker(worker);
  const [code] = await once(worker, 'exit');
  expect(code).toBe(7);
}

const SOON = { timeoutMs: 2_000 };

describe('Semaphore: dead waiters and holders', () => {
  it('a waiter that dies queued is dropped: free permits go to the next in line', async () => {
    const s = new Semaphore(2);
    // Hold one so the dying worker's request for two must queue.
    const held = s.tryAcquirePermit(1)!;
    await dies({ kind: 'semaphore', handle: s.handle, action: 'queue', amount: 2 });
    held.release();
    // Without recovery the dead ticket is the head forever and this times out.
    const p = await s.acquireAsync(2, SOON);
    expect(p.ownerDied).toBe(false);
    p.release();
    expect(s.available).toBe(2);
  });

  it('a holder that dies gives its permits back; the next acquirer is told ownerDied', async () => {
    const s = new Semaphore(3);
    await dies({ kind: 'semaphore', handle: s.handle, action: 'hold', amount: 2 });
    expect(s.available).toBe(3);
    const p = await s.acquireAsync(3, SOON);
    expect(p.ownerDied).toBe(true);
    p.release();
    // Told once: the holder after that sees a clean semaphore.
    expect(s.tryAcquirePermit(1)!.ownerDied).toBe(false);
  });
});

describe('Robust section: a change cut short by death is rolled back', () => {
  it('a thread killed half-way through a take leaves no permit missing', async () => {
    const s = new Semaphore(3);
    await dies({ kind: 'halfTake', handle: s.handle, action: 'hold' });
    // The next to enter the section undoes the half-take: all three permits are there.
    const p = await s.acquireAsync(3, SOON);
    expect(s.available).toBe(0);
    p.release();
    expect(s.available).toBe(3);
  });
});

describe('ResourcePool: dead waiters and holders', () => {
  it('a dead queued waiter is dropped and a dead holder\'s resources come back', async () => {
    const pool = new ResourcePool({ cpu: 4, mem: 100 });
    await dies({ kind: 'pool', handle: pool.handle, action: 'hold', amount: { cpu: 3, mem: 50 } });
    expect(pool.available()).toEqual({ cpu: 4, mem: 100 });
    const lease = pool.tryAcquireLease({ cpu: 2 })!;
    expect(lease.ownerDied).toBe(true);
    await dies({ kind: 'pool', handle: pool.handle, action: 'queue', amount: { cpu: 4 } });
    lease.release();
    const all = await pool.acquireAsync({ cpu: 4, mem: 100 }, SOON);
    expect(all.ownerDied).toBe(false);
    all.release();
  });
});

describe('RwLock: dead writers, readers and waiting writers', () => {
  it('a writer that dies holding it: readers are told ownerDied until a writer (who can repair) is', async () => {
    const l = new RwLock();
    await dies({ kind: 'write', handle: l.handle, action: 'hold' });
    const r = await l.readAsync(SOON);
    expect(r.ownerDied).toBe(true);
    r.unlock();
    const w = await l.writeAsync(SOON);
    expect(w.ownerDied).toBe(true);
    w.unlock();
    const after = await l.readAsync(SOON);
    expect(after.ownerDied).toBe(false);
    after.unlock();
  });

  it('a reader that dies holding a read lock: its count is released, a writer gets in', async () => {
    const l = new RwLock();
    await dies({ kind: 'read', handle: l.handle, action: 'hold' });
    const w = await l.writeAsync(SOON);
    expect(w.ownerDied).toBe(false);
    w.unlock();
  });

  it('a writer that dies waiting no longer holds readers back', async () => {
    const l = new RwLock();
    const r = l.tryRead()!;
    await dies({ kind: 'write', handle: l.handle, action: 'queue' });
    // Its announcement would make every new reader wait for a writer that never comes.
    const r2 = await l.readAsync(SOON);
    r2.unlock();
    r.unlock();
  });
});

describe('Resource negotiation: dead granted and queued threads', () => {
  it('a dead thread\'s grants return, its rows go, and its queued request leaves the queue', async () => {
    const n = new ResourceNegotiationProtocol({ cpu: 4 });
    await dies({ kind: 'negotiate', handle: n.handle, action: 'hold', amount: { cpu: 3 }, id: 'a' });
    expect(n.available()).toEqual({ cpu: 4 });
    expect(await n.holdings('a')).toEqual({ cpu: 0 });
    expect((await n.requestResources('main', { cpu: 3 })).granted).toBe(true);
    // Queued behind main's grant, then dead: without recovery "others are queued ahead" forever.
    await dies({ kind: 'negotiate', handle: n.handle, action: 'queue', amount: { cpu: 4 }, id: 'b' });
    await n.releaseResources('main');
    const all = await n.requestResources('c', { cpu: 4 }, { waitMs: 2_000 });
    expect(all.granted).toBe(true);
    expect(await n.releaseResources('c')).toEqual({ cpu: 4 });
    expect(n.available()).toEqual({ cpu: 4 });
  });
});

describe('Barrier and Latch: a dead party is not an arrival', () => {
  it('a party that dies waiting breaks the barrier; after reset a full round trips', async () => {
    const b = new Barrier(3);
    const mine = b.waitAsync({ timeoutMs: 10_000 });
    // The worker arrives (2 of 3) and dies parked. The third never comes: without recovery
    // the main thread's wait runs to its timeout; the dead party must break it at once.
    await dies({ kind: 'barrier', handle: b.handle, action: 'queue' });
    await expect(mine).rejects.toBeInstanceOf(BrokenBarrierError);
    b.reset();
    // The dead party departed: the fresh generation starts empty and three arrivals trip it.
    const round = await Promise.all([0, 1, 2].map(() => b.waitAsync(SOON)));
    expect(round.filter(Boolean)).toHaveLength(1);
  });

  it('a registered party that dies between waits breaks the barrier', async () => {
    const b = new Barrier(2);
    // The worker registers and dies without ever waiting: the round can never trip.
    await dies({ kind: 'barrierRegister', handle: b.handle, action: 'hold' });
    await expect(b.waitAsync({ timeoutMs: 10_000 })).rejects.toBeInstanceOf(BrokenBarrierError);
  });

  it('a registered counter that dies owing a count-down breaks the latch', async () => {
    const l = new Latch(2);
    const waiting = l.waitAsync({ timeoutMs: 10_000 });
    await dies({ kind: 'latch', handle: l.handle, action: 'hold' });
    await expect(waiting).rejects.toBeInstanceOf(BrokenBarrierError);
    expect(l.broken).toBe(true);
    // One that paid its debt does not break a latch.
    const ok = new Latch(1);
    ok.register();
    ok.countDown();
    expect(ok.broken).toBe(false);
    await ok.waitAsync(SOON);
  });
});
