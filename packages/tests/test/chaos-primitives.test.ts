// Chaos: workers hammer each primitive while a chaos loop terminates random busy workers and
// starts replacements. Afterwards the books must balance exactly, every permit must be back,
// and a fresh acquire must succeed at once: no dead holder or waiter wedges anything.
import { describe, expect, it } from 'vitest';
import { Barrier, BrokenBarrierError, Latch, Mutex, ResourcePool, RwLock, Semaphore } from '@tributary/runtime';
import { chaosLoop, CTL, kill, member, rng, seedFor, until, withSeed, type Member } from './chaos.js';

const WORKERS = 3;
/** Workers killed per primitive. */
const KILLS = 3;
const SOON = { timeoutMs: 2_000 };
/**
 * Each test's own deadline. Every wait inside is bounded on its own; this only allows for
 * worker start-up on a machine with far more runnable threads than cores.
 */
const DEADLINE_MS = 60_000;

/** Runs the chaos loop over `kind`, stops the survivors, and returns the books. */
async function hammer(kind: string, handle: unknown, seed: number): Promise<{ ctl: Int32Array; kills: number }> {
  const ctl = new Int32Array(new SharedArrayBuffer(64 * 4));
  const start = (slot: number): Member => member({ kind, handle, ctl: ctl.buffer, slot });
  const members = Array.from({ length: WORKERS }, (_, slot) => start(slot));
  try {
    const kills = await chaosLoop(members, ctl, rng(seed), KILLS, start);
    Atomics.store(ctl, CTL.STOP, 1);
    // Survivors finish their current operation and stop; none may hang or fail.
    const results = await Promise.race([
      Promise.all(members.map((m) => m.result)),
      new Promise((_, reject) => setTimeout(() => reject(new Error('survivors did not stop within 10 s')), 10_000)),
    ]);
    expect(results).toEqual(members.map(() => 'stopped'));
    return { ctl, kills };
  } finally {
    await Promise.all(members.map((m) => m.worker.terminate()));
  }
}

describe('chaos: workers killed mid-operation never wedge a primitive', () => {
  it('Mutex: exact count, repaired after every dead holder', () => withSeed(seedFor(1), async () => {
    const m = new Mutex();
    const { ctl, kills } = await hammer('mutex', m.handle, seedFor(1));
    expect(kills).toBe(KILLS);
    const g = await m.lockAsync(SOON);
    if (g.ownerDied) Atomics.store(ctl, CTL.X, Atomics.load(ctl, CTL.COMPLETED));
    expect(Atomics.load(ctl, CTL.X)).toBe(Atomics.load(ctl, CTL.COMPLETED));
    g.unlock();
  }), DEADLINE_MS);

  it('Semaphore: exact count, every permit back, the queue moves', () => withSeed(seedFor(2), async () => {
    const s = new Semaphore(1);
    const { ctl, kills } = await hammer('semaphore', s.handle, seedFor(2));
    expect(kills).toBe(KILLS);
    expect(s.available).toBe(1);
    const p = await s.acquireAsync(1, SOON);
    if (p.ownerDied) Atomics.store(ctl, CTL.X, Atomics.load(ctl, CTL.COMPLETED));
    expect(Atomics.load(ctl, CTL.X)).toBe(Atomics.load(ctl, CTL.COMPLETED));
    p.release();
  }), DEADLINE_MS);

  it('ResourcePool: exact count, totals conserved, the queue moves', () => withSeed(seedFor(3), async () => {
    const pool = new ResourcePool({ a: 2, b: 2 });
    const { ctl, kills } = await hammer('pool', pool.handle, seedFor(3));
    expect(kills).toBe(KILLS);
    expect(pool.available()).toEqual({ a: 2, b: 2 });
    const lease = await pool.acquireAsync({ a: 2, b: 2 }, SOON);
    if (lease.ownerDied) Atomics.store(ctl, CTL.X, Atomics.load(ctl, CTL.COMPLETED));
    expect(Atomics.load(ctl, CTL.X)).toBe(Atomics.load(ctl, CTL.COMPLETED));
    lease.release();
  }), DEADLINE_MS);

  it('RwLock: no torn read that was not announced, exact count, a writer gets in', () => withSeed(seedFor(4), async () => {
    const l = new RwLock();
    const { ctl, kills } = await hammer('rwlock', l.handle, seedFor(4));
    expect(kills).toBe(KILLS);
    expect(Atomics.load(ctl, CTL.TORN)).toBe(0);
    const w = await l.writeAsync(SOON);
    if (w.ownerDied) {
      Atomics.store(ctl, CTL.X, Atomics.load(ctl, CTL.COMPLETED));
      Atomics.store(ctl, CTL.Y, Atomics.load(ctl, CTL.COMPLETED));
    }
    expect([Atomics.load(ctl, CTL.X), Atomics.load(ctl, CTL.Y)]).toEqual([Atomics.load(ctl, CTL.COMPLETED), Atomics.load(ctl, CTL.COMPLETED)]);
    w.unlock();
  }), DEADLINE_MS);

  it('Barrier: a killed registered party breaks the round for all; rounds passed were all-arrived', () => withSeed(seedFor(5), async () => {
    const random = rng(seedFor(5));
    const parties = 3;
    const b = new Barrier(parties);
    for (let epoch = 0; epoch < 2; epoch++) {
      if (epoch > 0) b.reset();
      const ctl = new Int32Array(new SharedArrayBuffer(64 * 4));
      const arrived = new Int32Array(new SharedArrayBuffer(4 * 100_000));
      const passed = new Int32Array(new SharedArrayBuffer(4 * 100_000));
      const members = Array.from({ length: parties }, (_, slot) =>
        member({ kind: 'barrier', handle: b.handle, ctl: ctl.buffer, slot, arrived: arrived.buffer, passed: passed.buffer }));
      try {
        await until(() => members.every((m) => Atomics.load(ctl, CTL.PROGRESS + m.slot) > 0), 10_000, 'every party passing a round');
        await new Promise((r) => setTimeout(r, Math.floor(random() * 60)));
        const victim = members[Math.floor(random() * parties)]!;
        await kill(victim);
        // The others learn at once that the round can never trip: broken, never a timeout.
        const others = await Promise.all(members.filter((m) => m !== victim).map((m) => m.result));
        expect(others).toEqual(others.map(() => 'broken'));
        for (let r = 0; r < arrived.length && arrived[r]! > 0; r++) {
          if (passed[r]! > 0) expect(arrived[r], `round ${r} was passed without every party`).toBe(parties);
        }
      } finally {
        await Promise.all(members.map((m) => m.worker.terminate()));
      }
    }
    // The dead parties departed: after a reset, a full round trips at once.
    b.reset();
    const round = await Promise.all(Array.from({ length: parties }, () => b.waitAsync(SOON)));
    expect(round.filter(Boolean)).toHaveLength(1);
  }), DEADLINE_MS);

  it('Latch: a killed registered counter breaks it at once, or it opens; never a timeout', () => withSeed(seedFor(6), async () => {
    const random = rng(seedFor(6));
    const counters = 3;
    const outcomes: string[] = [];
    for (let round = 0; round < 2; round++) {
      const l = new Latch(counters);
      const ctl = new Int32Array(new SharedArrayBuffer(64 * 4));
      const members = Array.from({ length: counters }, (_, slot) =>
        member({ kind: 'latch', handle: l.handle, ctl: ctl.buffer, slot, workMs: 300 + Math.floor(random() * 300) }));
      try {
        await until(() => members.every((m) => Atomics.load(ctl, CTL.PROGRESS + m.slot) > 0), 10_000, 'every counter registering');
        await new Promise((r) => setTimeout(r, Math.floor(random() * 100)));
        // A victim that still owes its count-down, if any is left (progress 1: registered, not paid).
        const owing = members.filter((m) => Atomics.load(ctl, CTL.PROGRESS + m.slot) === 1);
        const pool = owing.length > 0 ? owing : members;
        await kill(pool[Math.floor(random() * pool.length)]!);
        const outcome = await l.waitAsync({ timeoutMs: 8_000 }).then(() => 'open', (e: unknown) => (e instanceof BrokenBarrierError ? 'broken' : String(e)));
        await Promise.all(members.map((m) => m.result));
        // Open exactly when the count reached zero; otherwise broken at once (a timeout here
        // would mean the dead counter's debt went unnoticed).
        expect({ outcome, broken: l.broken }).toEqual(l.count === 0 ? { outcome: 'open', broken: false } : { outcome: 'broken', broken: true });
        outcomes.push(outcome);
      } finally {
        await Promise.all(members.map((m) => m.worker.terminate()));
      }
    }
    // The case this guards must have happened: a counter killed while it still owed.
    expect(outcomes).toContain('broken');
  }), DEADLINE_MS);
});
