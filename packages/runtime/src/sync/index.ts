/**
 * The sync layer: primitives over shared memory, each usable from any thread that has its handle.
 *
 * - {@link Mutex}: robust futex mutex with owner-died recovery.
 * - {@link RwLock}: writer-preferring reader/writer lock; a dead writer's lock is freed (ownerDied).
 * - {@link Semaphore}: weighted, FIFO-fair counting semaphore; a dead holder's permits come back.
 * - {@link ResourcePool}: multi-dimensional, all-or-nothing, FIFO-fair semaphore, robust likewise.
 * - {@link Barrier}: cyclic barrier with all-or-none breakage; a dead party breaks it.
 * - {@link Latch}: one-shot countdown; a dead registered counter breaks it.
 * - {@link Counter}: 64-bit atomic integer.
 *
 * Robustness: `watchWorker(worker)` reports a thread's death; every primitive this thread knows
 * then drops the dead thread's queue tickets and holdings (see `robust.ts`).
 */
export { Barrier, type BarrierHandle } from './barrier.js';
export { Counter, type CounterHandle } from './counter.js';
export { Latch, type LatchHandle, type LatchOptions } from './latch.js';
export { Mutex, MutexGuard, type MutexHandle } from './mutex.js';
export { ResourceLease, ResourcePool, type ResourceAmounts, type ResourcePoolHandle, type ResourcePoolOptions } from './resource-pool.js';
export { recoverLocksOf, watchWorker } from './robust.js';
export { RwLock, RwLockGuard, type RwLockHandle, type RwLockOptions } from './rwlock.js';
export { Semaphore, SemaphorePermit, type SemaphoreHandle, type SemaphoreOptions } from './semaphore.js';
