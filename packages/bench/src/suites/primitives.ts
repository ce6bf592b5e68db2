/**
 * Primitive suite: each sync primitive beside its raw baseline, uncontended (main thread)
 * and contended (a gang of 2 workers).
 */
import { Barrier, Counter, Mutex, ResourcePool, RwLock, Semaphore } from '@tributary/runtime';
import { rawLock, rawUnlock } from '../baselines/raw-futex.js';
import { Gang } from '../gang.js';
import { nsPerOp } from '../measure.js';
import { compare, type Comparison, type Suite, type SuiteContext } from '../types.js';

const BATCH = 10_000;
const ROUND = 2_000;

async function uncontended(ctx: SuiteContext): Promise<Comparison[]> {
  ctx.progress('uncontended lock+unlock');
  const m = new Mutex();
  const raw = new Int32Array(new SharedArrayBuffer(4));
  const sem = new Semaphore(1);
  const rw = new RwLock();
  const counter = new Counter();
  const rawCounter = new BigInt64Array(new SharedArrayBuffer(8));
  const pool = new ResourcePool({ cpu: 4, mem: 4096 });
  const take = { cpu: 1, mem: 1024 };
  const loop = (body: () => void) => () => { for (let i = 0; i < BATCH; i++) body(); };
  const [mutex, futex, semaphore, read, write, add, rawAdd, grant] = await nsPerOp(
    [
      { name: 'Mutex', opsPerCall: BATCH, fn: loop(() => m.lock().unlock()) },
      { name: 'raw futex', opsPerCall: BATCH, fn: loop(() => { rawLock(raw, 0); rawUnlock(raw, 0); }) },
      { name: 'Semaphore', opsPerCall: BATCH, fn: loop(() => { sem.tryAcquire(1); sem.release(1); }) },
      { name: 'RwLock read', opsPerCall: BATCH, fn: loop(() => rw.tryRead()!.unlock()) },
      { name: 'RwLock write', opsPerCall: BATCH, fn: loop(() => rw.tryWrite()!.unlock()) },
      { name: 'Counter.add', opsPerCall: BATCH, fn: loop(() => counter.add(1n)) },
      { name: 'Atomics.add', opsPerCall: BATCH, fn: loop(() => Atomics.add(rawCounter, 0, 1n)) },
      { name: 'ResourcePool', opsPerCall: BATCH, fn: loop(() => { pool.tryAcquire(take); pool.release(take); }) },
    ],
    ctx.timeMs,
  );
  const base = { suite: 'primitives', unit: 'ns/op' as const, baseline: 'raw futex' };
  return [
    compare({ ...base, id: 'mutex.uncontended', name: 'uncontended lock+unlock', subject: 'Mutex', target: 1.5 }, mutex!, futex!),
    compare({ ...base, id: 'semaphore.uncontended', name: 'uncontended acquire+release', subject: 'Semaphore' }, semaphore!, futex!),
    compare({ ...base, id: 'rwlock.read', name: 'uncontended read lock+unlock', subject: 'RwLock' }, read!, futex!),
    compare({ ...base, id: 'rwlock.write', name: 'uncontended write lock+unlock', subject: 'RwLock' }, write!, futex!),
    compare({ ...base, id: 'pool.uncontended', name: 'uncontended 2-resource acquire+release', subject: 'ResourcePool' }, grant!, futex!),
    compare({ ...base, id: 'counter.add', name: 'uncontended add', subject: 'Counter', baseline: 'Atomics.add on BigInt64' }, add!, rawAdd!),
  ];
}

async function contended(ctx: SuiteContext): Promise<Comparison[]> {
  ctx.progress('contended, 2 workers');
  const raw = new Int32Array(new SharedArrayBuffer(32));
  Atomics.store(raw, 4, 1); // the raw semaphore's single permit
  const gang = new Gang(2, {
    data: new SharedArrayBuffer(8),
    raw: raw.buffer,
    mutex: new Mutex().handle,
    barrier: new Barrier(2).handle,
    semaphore: new Semaphore(1).handle,
    rwlock: new RwLock().handle,
    counter: new Counter().handle,
    rawCounter: new SharedArrayBuffer(8),
  });
  try {
    const perOp = ROUND * 2;
    const [mutex, futex, barrier, rawBarrier, semaphore, rawSemaphore, rwWrite, counter, rawCounter] = await nsPerOp(
      [
        { name: 'Mutex x2', opsPerCall: perOp, async: true, fn: () => gang.round('mutex', ROUND) },
        { name: 'raw futex x2', opsPerCall: perOp, async: true, fn: () => gang.round('raw-mutex', ROUND) },
        { name: 'Barrier x2', opsPerCall: ROUND, async: true, fn: () => gang.round('barrier', ROUND) },
        { name: 'raw barrier x2', opsPerCall: ROUND, async: true, fn: () => gang.round('raw-barrier', ROUND) },
        { name: 'Semaphore x2', opsPerCall: perOp, async: true, fn: () => gang.round('semaphore', ROUND) },
        { name: 'raw semaphore x2', opsPerCall: perOp, async: true, fn: () => gang.round('raw-semaphore', ROUND) },
        { name: 'RwLock write x2', opsPerCall: perOp, async: true, fn: () => gang.round('rwlock-write', ROUND) },
        { name: 'Counter x2', opsPerCall: perOp, async: true, fn: () => gang.round('counter', ROUND) },
        { name: 'raw counter x2', opsPerCall: perOp, async: true, fn: () => gang.round('raw-counter', ROUND) },
      ],
      ctx.timeMs,
    );
    return [
      // Throughput >= 0.8x raw is a time ratio <= 1.25.
      compare({ suite: 'primitives', id: 'mutex.contended', name: 'contended lock+unlock, 2 workers', subject: 'Mutex', baseline: 'raw futex', unit: 'ns/op', target: 1.25 }, mutex!, futex!),
      compare({ suite: 'primitives', id: 'barrier.round', name: 'barrier round, 2 workers', subject: 'Barrier', baseline: 'raw barrier', unit: 'ns/op', target: 1.2 }, barrier!, rawBarrier!),
      compare({ suite: 'primitives', id: 'semaphore.contended', name: 'contended acquire+release, 2 workers', subject: 'Semaphore', baseline: 'raw CAS semaphore', unit: 'ns/op' }, semaphore!, rawSemaphore!),
      compare({ suite: 'primitives', id: 'rwlock.contended', name: 'contended write lock+unlock, 2 workers', subject: 'RwLock', baseline: 'raw futex', unit: 'ns/op' }, rwWrite!, futex!),
      compare({ suite: 'primitives', id: 'counter.contended', name: 'contended add, 2 workers', subject: 'Counter', baseline: 'Atomics.add on BigInt64', unit: 'ns/op' }, counter!, rawCounter!),
    ];
  } finally {
    await gang.close();
  }
}

/** The primitives suite. */
export const primitives: Suite = {
  name: 'primitives',
  description: 'Mutex, Barrier and Semaphore against raw Atomics baselines',
  async run(ctx) {
    return [...(await uncontended(ctx)), ...(await contended(ctx))];
  },
};
