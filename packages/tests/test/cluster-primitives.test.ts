// The Redis primitives on their own, against a real redis-server, with real processes playing
// dead holders (kill -9).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  openRedis,
  RedisBarrier,
  RedisCounter,
  RedisLatch,
  RedisMutex,
  RedisResources,
  RedisSemaphore,
  RedisState,
  Session,
} from '@tributary/runtime/cluster';
import { describeWithRedis, startRedis, type RedisServer } from './redis-harness.js';
import { fixture } from './helpers.js';

describeWithRedis('cluster primitives on Redis', () => {
  let server: RedisServer;
  let a: Session;
  let b: Session;
  let name = 0;
  const fresh = (): string => `t${++name}`;

  beforeAll(async () => {
    server = await startRedis();
    // Leases long enough that a loaded machine's event-loop delays never lapse a live session.
    a = new Session(openRedis(server.socket), { leaseMs: 3000 });
    b = new Session(openRedis(server.socket), { leaseMs: 3000 });
    await Promise.all([a.start(), b.start()]);
  });
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const s of [a, b]) {
      await s?.close();
      s?.redis.disconnect();
    }
    await server?.stop();
  });

  /** Starts hold.mjs in its own process and resolves with the first line it prints. */
  async function holder(kind: string, key: string): Promise<{ child: ChildProcess; said: Record<string, unknown> }> {
    const child = spawn(process.execPath, [fixture('cluster/hold.mjs').pathname, server.socket, kind, key, '1500'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('holder said nothing within 20 s')), 20_000);
      createInterface({ input: child.stdout! }).once('line', (l) => {
        clearTimeout(timer);
        resolve(l);
      });
      child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
    });
    return { child, said: JSON.parse(line) as Record<string, unknown> };
  }

  /** Polls `condition` until true, failing after 5 s. */
  async function until(condition: () => Promise<boolean>): Promise<void> {
    for (const deadline = Date.now() + 5000; !(await condition()); ) {
      if (Date.now() > deadline) throw new Error('condition not met within 5 s');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  function kill9(child: ChildProcess): Promise<void> {
    const gone = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    return gone;
  }

  it('mutex: one holder at a time, tokens strictly increase, misuse is typed', async () => {
    const key = fresh();
    const m1 = new RedisMutex(a, key);
    const m2 = new RedisMutex(b, key);
    const g1 = await m1.lock({ timeoutMs: 1000 });
    expect(g1.ownerDied).toBe(false);
    // b waits while a holds it, and gives up with a TimeoutError.
    await expect(m2.lock({ timeoutMs: 100 })).rejects.toMatchObject({ name: 'TimeoutError' });
    // Not re-entrant: the holder asking again is told so instead of waiting forever.
    await expect(m1.lock({ timeoutMs: 100 })).rejects.toMatchObject({ name: 'InvalidStateError' });
    const waiting = m2.lock({ timeoutMs: 5000 });
    await g1.unlock();
    await expect(g1.unlock()).rejects.toMatchObject({ name: 'InvalidStateError' });
    const g2 = await waiting;
    expect(g2.token).toBeGreaterThan(g1.token);
    await g2.unlock();
  });

  it('mutex: 40 increments from two sessions under the lock lose nothing', async () => {
    const key = fresh();
    const counter = new RedisCounter(a, key);
    const bump = async (s: Session, i: number): Promise<void> =>
      new RedisMutex(s, key, `h${i}`).withLock(async () => {
        // A read-modify-write that races without the lock.
        const v = await counter.get();
        await counter.set(v + 1n);
      }, { timeoutMs: 10_000 });
    await Promise.all(Array.from({ length: 40 }, (_, i) => bump(i % 2 === 0 ? a : b, i)));
    expect(await counter.get()).toBe(40n);
  });

  it('mutex: a holder killed with -9 is succeeded with ownerDied and a higher token', async () => {
    const key = fresh();
    const { child, said } = await holder('mutex', key);
    // The child holds it: we cannot have it while its lease is renewed.
    expect(await new RedisMutex(a, key).tryLock()).toBeNull();
    await kill9(child);
    const g = await new RedisMutex(a, key).lock({ timeoutMs: 5000 });
    expect(g.ownerDied).toBe(true);
    expect(g.token).toBeGreaterThan(said.token as number);
    await g.unlock();
  });

  it('semaphore: capacity holds, a dead holder\'s permits come back', async () => {
    const key = fresh();
    const { child } = await holder('semaphore', key);
    const sem = new RedisSemaphore(a, key, 2);
    expect((await sem.tryAcquire(1)).acquired).toBe(false);
    await kill9(child);
    const r = await sem.acquire(2, { timeoutMs: 5000 });
    expect(r.ownerDied).toBe(true);
    expect((await new RedisSemaphore(b, key, 2).tryAcquire(1)).acquired).toBe(false);
    await sem.release(2);
    await expect(sem.release(1)).rejects.toMatchObject({ name: 'NotOwnerError' });
    await expect(sem.acquire(3)).rejects.toMatchObject({ name: 'InvalidArgumentError' });
  });

  it('semaphore: FIFO, a large request is not starved by small ones and tryAcquire never jumps the queue', async () => {
    const key = fresh();
    const queue = `tributary:semaphore:${key}:queue`;
    const held = new RedisSemaphore(a, key, 2, 'first');
    await held.acquire(2);
    const order: string[] = [];
    // Queued in this order: big (2 permits) first, then small (1).
    const big = new RedisSemaphore(b, key, 2, 'big').acquire(2, { timeoutMs: 10_000 }).then(() => order.push('big'));
    await until(async () => (await a.redis.llen(queue)) === 1);
    const small = new RedisSemaphore(b, key, 2, 'small').acquire(1, { timeoutMs: 10_000 }).then(() => order.push('small'));
    await until(async () => (await a.redis.llen(queue)) === 2);
    // One permit comes free: it fits small, but big is first in line, so nobody takes it.
    await held.release(1);
    expect((await new RedisSemaphore(a, key, 2, 'probe').tryAcquire(1)).acquired).toBe(false);
    await held.release(1);
    await big;
    await new RedisSemaphore(b, key, 2, 'big').release(2);
    await small;
    expect(order).toEqual(['big', 'small']);
    await new RedisSemaphore(b, key, 2, 'small').release(1);
    // A waiter that times out leaves the queue: the next caller is not stuck behind it.
    await held.acquire(2);
    await expect(new RedisSemaphore(b, key, 2, 'late').acquire(1, { timeoutMs: 100 })).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(await a.redis.llen(queue)).toBe(0);
    await held.release(2);
    expect((await new RedisSemaphore(b, key, 2, 'late').tryAcquire(1)).acquired).toBe(true);
  });

  it('semaphore: a waiter whose process died (kill -9) leaves the queue once its lease lapses', async () => {
    const key = fresh();
    const held = new RedisSemaphore(a, key, 2, 'first');
    await held.acquire(2);
    const { child } = await holder('semaphore-waiter', key);
    await until(async () => (await a.redis.llen(`tributary:semaphore:${key}:queue`)) === 1);
    await kill9(child);
    await held.release(2);
    // Behind the dead waiter's ticket: granted once its 1500 ms lease lapses, not never.
    expect(await new RedisSemaphore(b, key, 2).acquire(2, { timeoutMs: 8000 })).toEqual({ ownerDied: false });
  });

  it('barrier: trips for all parties, cyclically', async () => {
    const key = fresh();
    for (let round = 0; round < 2; round++) {
      const tripped = await Promise.all([a, b, a].map((s) => new RedisBarrier(s, key, 3).wait({ timeoutMs: 5000 })));
      expect(tripped.filter(Boolean)).toHaveLength(1);
    }
  });

  it('barrier: a timed-out party breaks the round for all; later waits fail until reset', async () => {
    const key = fresh();
    const patient = new RedisBarrier(a, key, 3).wait({ timeoutMs: 10_000 });
    const patientBroken = expect(patient).rejects.toMatchObject({ name: 'BrokenBarrierError' }); // handled from the start: it may break first
    const impatient = new RedisBarrier(b, key, 3).wait({ timeoutMs: 150 });
    await expect(impatient).rejects.toMatchObject({ name: 'TimeoutError' });
    await patientBroken;
    await expect(new RedisBarrier(a, key, 3).wait({ timeoutMs: 1000 })).rejects.toMatchObject({ name: 'BrokenBarrierError' });
    await new RedisBarrier(a, key, 3).reset();
    const tripped = await Promise.all([a, b, b].map((s) => new RedisBarrier(s, key, 3).wait({ timeoutMs: 5000 })));
    expect(tripped.filter(Boolean)).toHaveLength(1);
  });

  it('barrier: a party whose process dies breaks the round for the others', async () => {
    const key = fresh();
    const { child } = await holder('barrier', key);
    const barrier = new RedisBarrier(a, key, 3);
    await until(async () => (await barrier.waiting()) === 1);
    const waiting = expect(barrier.wait({ timeoutMs: 10_000 })).rejects.toMatchObject({ name: 'BrokenBarrierError' });
    await kill9(child);
    await waiting;
  });

  it('barrier: a named party arriving twice in one round (its first holder is gone) breaks the round', async () => {
    const key = fresh();
    const first = new RedisBarrier(a, key, 3).wait({ timeoutMs: 10_000, party: 'p' });
    // Expect the first party's rejection now: under load it can break before the second
    // party's call settles, and a rejection with no handler yet is an unhandled error.
    const firstBroken = expect(first).rejects.toMatchObject({ name: 'BrokenBarrierError' });
    await until(async () => (await new RedisBarrier(a, key, 3).waiting()) === 1);
    await expect(new RedisBarrier(b, key, 3).wait({ timeoutMs: 1000, party: 'p' })).rejects.toMatchObject({ name: 'BrokenBarrierError' });
    await firstBroken;
  });

  it('latch and counter', async () => {
    const key = fresh();
    const latch = new RedisLatch(a, key);
    await latch.create(2);
    const opened = new RedisLatch(b, key).wait({ timeoutMs: 5000 });
    await expect(new RedisLatch(b, key).wait({ timeoutMs: 50 })).rejects.toMatchObject({ name: 'TimeoutError' });
    await latch.countDown();
    await latch.countDown();
    await opened;
    expect(await latch.countDown()).toBe(0);
    const counter = new RedisCounter(b, key);
    await Promise.all(Array.from({ length: 50 }, (_, i) => new RedisCounter(i % 2 ? a : b, key).add(2)));
    expect(await counter.get()).toBe(100n);
    expect(await counter.compareAndSet(99, 1)).toBe(false);
    expect(await counter.compareAndSet(100, 1)).toBe(true);
    expect(await counter.get()).toBe(1n);
  });

  it('state: concurrent compare-and-set updates from two sessions lose nothing; versions are capped', async () => {
    const key = fresh();
    const bump = (s: { n?: number }): { n: number } => ({ n: (s.n ?? 0) + 1 });
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => new RedisState<{ n?: number }>(i % 2 ? a : b, key, { maxVersions: 5 }).createNewVersion(bump, `s${i}`, { timeoutMs: 20_000 })),
    );
    const state = new RedisState<{ n?: number }>(a, key, { maxVersions: 5 });
    const current = await state.current();
    expect(current.version).toBe(30);
    expect(current.state.n).toBe(30);
    expect((await state.versions()).map((v) => v.version)).toEqual([26, 27, 28, 29, 30]);
    await expect(state.waitForVersion(31, { timeoutMs: 50 })).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('resources: full, negotiated, refused; FIFO queueing; a dead holder\'s grant comes back', async () => {
    const key = fresh();
    const pool = new RedisResources(a, key);
    await pool.setCapacity({ cpu: 4, mem: 100 });
    expect(await pool.requestResources('x', { cpu: 9 })).toMatchObject({ granted: false, reason: 'exceeds-capacity' });
    expect(await pool.requestResources('x', { gpu: 1 })).toMatchObject({ granted: false, reason: 'unknown-resource' });
    expect(await pool.requestResources('x', { cpu: 3, mem: 50 })).toMatchObject({ granted: true, negotiated: false });
    expect(await pool.requestResources('y', { cpu: 2 })).toMatchObject({ granted: false, reason: 'insufficient' });
    expect(await pool.requestResources('y', { cpu: 2 }, { min: { cpu: 1 } })).toMatchObject({ granted: true, negotiated: true, allocation: { cpu: 1 } });
    // Full now. "big" queues first; "small" would fit after a 1-cpu release but must not overtake.
    const big = pool.requestResources('big', { cpu: 2 }, { waitMs: 10_000 });
    await until(async () => (await pool.queued()) === 1);
    const small = new RedisResources(b, key).requestResources('small', { cpu: 1 }, { waitMs: 10_000 });
    await until(async () => (await pool.queued()) === 2);
    await pool.releaseResources('y');
    // One cpu is free now: "small" fits but is behind "big"; give it a few polls to (wrongly) overtake.
    await new Promise((r) => setTimeout(r, 100));
    expect(await pool.holdings('small')).toEqual({});
    expect(await pool.releaseResources('x')).toEqual({ cpu: 3, mem: 50 });
    expect(await big).toMatchObject({ granted: true, allocation: { cpu: 2 } });
    expect(await small).toMatchObject({ granted: true, allocation: { cpu: 1 } });
    await pool.releaseResources('big');
    await pool.releaseResources('small');
    // A holder in another process takes everything, then dies: its grant is reclaimed.
    const { child, said } = await holder('resources', key);
    expect(said).toMatchObject({ granted: true });
    expect(await pool.requestResources('z', { cpu: 1 })).toMatchObject({ granted: false });
    await kill9(child);
    expect(await pool.requestResources('z', { cpu: 4 }, { waitMs: 5000 })).toMatchObject({ granted: true });
  });
});
