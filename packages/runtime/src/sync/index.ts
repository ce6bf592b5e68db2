/**
 * The sync layer, usable on its own (`@tributary/runtime/sync`): primitives over shared memory,
 * each usable from any thread that has its handle. Importing it loads no worker pool.
 *
 * - {@link Mutex}: robust futex mutex with owner-died recovery.
 * - {@link RwLock}: writer-preferring reader/writer lock; a dead writer's lock is freed (ownerDied).
 * - {@link Semaphore}: weighted, FIFO-fair counting semaphore; a dead holder's permits come back.
 * - {@link ResourcePool}: multi-dimensional, all-or-nothing, FIFO-fair semaphore, robust likewise.
 * - {@link Barrier}: cyclic barrier with all-or-none breakage; a dead party breaks it.
 * - {@link Latch}: one-shot countdown; a dead registered counter breaks it.
 * - {@link Counter}: 64-bit atomic integer.
 * - {@link watchWorker}, {@link recoverLocksOf}: report a thread's death; every primitive this
 *   thread knows then drops the dead thread's queue tickets and holdings (see `robust.ts`).
 *
 * The errors these primitives throw are exported here too, so `instanceof` checks need no
 * second entry point (they are the same classes as the main entry's).
 *
 * @packageDocumentation
 */
export { Barrier } from './barrier.js';
export type { BarrierHandle } from './barrier.js';
export { Counter } from './counter.js';
export type { CounterHandle } from './counter.js';
export { Latch } from './latch.js';
export type { LatchHandle, LatchOptions } from './latch.js';
export { Mutex, MutexGuard } from './mutex.js';
export type { MutexHandle } from './mutex.js';
export { ResourceLease, ResourcePool } from './resource-pool.js';
export type { ResourceAmounts, ResourcePoolHandle, ResourcePoolOptions } from './resource-pool.js';
export { recoverLocksOf, watchWorker } from './robust.js';
export { RwLock, RwLockGuard } from './rwlock.js';
export type { RwLockHandle, RwLockOptions } from './rwlock.js';
export { Semaphore, SemaphorePermit } from './semaphore.js';
export type { SemaphoreHandle, SemaphoreOptions } from './semaphore.js';

export {
  AbortedError,
  BrokenBarrierError,
  CapacityError,
  InvalidArgumentError,
  InvalidStateError,
  NotOwnerError,
  ResourceError,
  TimeoutError,
  TributaryError,
} from '../shared/errors.js';
export type { TributaryErrorCode } from '../shared/errors.js';
export type { WaitOptions } from '../shared/wait.js';
