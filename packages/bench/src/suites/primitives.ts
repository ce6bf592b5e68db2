/**
 * Primitive suite: each sync primitive beside its raw baseline, uncontended (main thread)
 * and contended (a gang of 2 workers).
 */
import { Barrier, Mutex, Semaphore } from '@tributary/runtime';
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
  const [mutex, futex, semaphore] = await nsPerOp(
    [
      { name: 'Mutex', opsPerCall: BATCH, fn: () => { for (let i = 0; i < BATCH; i++) m.lock().unlock(); } },
      { name: 'raw futex', opsPerCall: BATCH, fn: () => { for (let i = 0; i < BATCH; i++) { rawLock(raw, 0); rawUnlock(raw, 0); } } },
      { name: 'Semaphore', opsPerCall: BATCH, fn: () => { for (let i = 0; i < BATCH; i++) { sem.tryAcquire(1); sem.release(1); } } },
    ],
    ctx.timeMs,
  );
  return [
    compare({ suite: 'primitives', id: 'mutex.uncontended', name: 'uncontended lock+unlock', subject: 'Mutex', baseline: 'raw futex', unit: 'ns/op', target: 1.5 }, mutex!, futex!),
    compare({ suite: 'primitives', id: 'semaphore.uncontended', name: 'uncontended acquire+release', subject: 'Semaphore', baseline: 'raw futex', unit: 'ns/op' }, semaphore!, futex!),
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
  });
  try {
    const perOp = ROUND * 2;
    const [mutex, futex, barrier, rawBarrier, semaphore, rawSemaphore] = await nsPerOp(
      [
        { name: 'Mutex x2', opsPerCall: perOp, async: true, fn: () => gang.round('mutex', ROUND) },
        { name: 'raw futex x2', opsPerCall: perOp, async: true, fn: () => gang.round('raw-mutex', ROUND) },
        { name: 'Barrier x2', opsPerCall: ROUND, async: true, fn: () => gang.round('barrier', ROUND) },
        { name: 'raw barrier x2', opsPerCall: ROUND, async: true, fn: () => gang.round('raw-barrier', ROUND) },
        { name: 'Semaphore x2', opsPerCall: perOp, async: true, fn: () => gang.round('semaphore', ROUND) },
        { name: 'raw semaphore x2', opsPerCall: perOp, async: true, fn: () => gang.round('raw-semaphore', ROUND) },
      ],
      ctx.timeMs,
    );
    return [
      // Throughput >= 0.8x raw is a time ratio <= 1.25.
      compare({ suite: 'primitives', id: 'mutex.contended', name: 'contended lock+unlock, 2 workers', subject: 'Mutex', baseline: 'raw futex', unit: 'ns/op', target: 1.25 }, mutex!, futex!),
      compare({ suite: 'primitives', id: 'barrier.round', name: 'barrier round, 2 workers', subject: 'Barrier', baseline: 'raw barrier', unit: 'ns/op', target: 1.2 }, barrier!, rawBarrier!),
      compare({ suite: 'primitives', id: 'semaphore.contended', name: 'contended acquire+release, 2 workers', subject: 'Semaphore', baseline: 'raw CAS semaphore', unit: 'ns/op' }, semaphore!, rawSemaphore!),
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
