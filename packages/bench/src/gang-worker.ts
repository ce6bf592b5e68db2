/** Worker side of the benchmark gang: waits for a new command, runs the op once, acknowledges it. */
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
import { ACK, COMMAND, DONE, IDLE_LIMIT_MS, ITERATIONS, OP, OPS, STOP, type GangData, type GangOp } from './gang.js';

const { control, shared, parties, index } = workerData as GangData;
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

/**
 * Waits until COMMAND differs from `last`, the round this worker last ran. The condition is
 * re-checked after every wake: a notify can arrive late (the main thread bumps COMMAND, this
 * worker sees the new value without sleeping, runs the round, then sleeps again and receives
 * that round's notify), and such a wake must not run the same round twice. Returns undefined
 * after IDLE_LIMIT_MS without a new command (the gang was abandoned).
 */
function nextCommand(last: number): number | undefined {
  const deadline = performance.now() + IDLE_LIMIT_MS;
  for (;;) {
    const command = Atomics.load(c, COMMAND);
    if (command !== last) return command;
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    Atomics.wait(c, COMMAND, last, left);
  }
}

// Start from the initial command value: a round posted before this worker started still runs.
let last = 0;
for (;;) {
  const command = nextCommand(last);
  if (command === undefined || command === STOP) break;
  ops[OPS[Atomics.load(c, OP)]!](Atomics.load(c, ITERATIONS));
  last = command;
  Atomics.store(c, ACK + index, command);
  Atomics.add(c, DONE, 1);
  Atomics.notify(c, DONE);
}
