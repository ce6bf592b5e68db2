/** Worker side of the benchmark gang: waits for a command, runs the op, reports done. */
import { workerData } from 'node:worker_threads';
import {
  Barrier,
  Counter,
  Mutex,
  RwLock,
  Semaphore,
  type BarrierHandle,
  type CounterHandle,
  type MutexHandle,
  type RwLockHandle,
  type SemaphoreHandle,
} from '@tributary/runtime';
import { rawBarrierWait } from './baselines/raw-barrier.js';
import { rawLock, rawUnlock } from './baselines/raw-futex.js';
import { COMMAND, DONE, IDLE_LIMIT_MS, ITERATIONS, OP, OPS, STOP, type GangData, type GangOp } from './gang.js';

const { control, shared, parties } = workerData as GangData;
const c = new Int32Array(control);
const data = new Int32Array(shared.data as SharedArrayBuffer);
const rawWords = new Int32Array(shared.raw as SharedArrayBuffer);
const mutex = Mutex.from(shared.mutex as MutexHandle);
const barrier = Barrier.from(shared.barrier as BarrierHandle);
const semaphore = Semaphore.from(shared.semaphore as SemaphoreHandle);
const rwlock = RwLock.from(shared.rwlock as RwLockHandle);
const counter = Counter.from(shared.counter as CounterHandle);
const rawCounter = new BigInt64Array(shared.rawCounter as SharedArrayBuffer);

const ops: Record<GangOp, (n: number) => void> = {
  mutex(n) {
    for (let i = 0; i < n; i++) {
      const g = mutex.lock();
      data[0]!++;
      g.unlock();
    }
  },
  'raw-mutex'(n) {
    for (let i = 0; i < n; i++) {
      rawLock(rawWords, 0);
      data[1]!++;
      rawUnlock(rawWords, 0);
    }
  },
  barrier(n) {
    for (let i = 0; i < n; i++) barrier.wait();
  },
  'raw-barrier'(n) {
    for (let i = 0; i < n; i++) rawBarrierWait(rawWords.subarray(2, 4), parties);
  },
  semaphore(n) {
    for (let i = 0; i < n; i++) {
      semaphore.acquire(1);
      semaphore.release(1);
    }
  },
  'rwlock-write'(n) {
    for (let i = 0; i < n; i++) {
      const g = rwlock.write();
      data[2]!++;
      g.unlock();
    }
  },
  counter(n) {
    for (let i = 0; i < n; i++) counter.add(1n);
  },
  'raw-counter'(n) {
    for (let i = 0; i < n; i++) Atomics.add(rawCounter, 0, 1n);
  },
  'raw-semaphore'(n) {
    // Bare CAS permit counter with no queue, parked on the counter itself.
    for (let i = 0; i < n; i++) {
      for (;;) {
        const p = Atomics.load(rawWords, 4);
        if (p > 0 && Atomics.compareExchange(rawWords, 4, p, p - 1) === p) break;
        if (p === 0) Atomics.wait(rawWords, 4, 0);
      }
      Atomics.add(rawWords, 4, 1);
      Atomics.notify(rawWords, 4, 1);
    }
  },
};

// Start from the initial command value: a round posted before this worker started still runs.
let seen = 0;
for (;;) {
  if (Atomics.wait(c, COMMAND, seen, IDLE_LIMIT_MS) === 'timed-out') break;
  seen = Atomics.load(c, COMMAND);
  if (seen === STOP) break;
  ops[OPS[Atomics.load(c, OP)]!](Atomics.load(c, ITERATIONS));
  Atomics.add(c, DONE, 1);
  Atomics.notify(c, DONE);
}
