/**
 * The sync layer: primitives over shared memory, each usable from any thread that has its handle.
 *
 * - {@link Mutex}: robust futex mutex with owner-died recovery.
 * - {@link RwLock}: writer-preferring reader/writer lock.
 * - {@link Semaphore}: weighted, FIFO-fair counting semaphore.
 * - {@link ResourcePool}: multi-dimensional, all-or-nothing, FIFO-fair semaphore.
 * - {@link Barrier}: cyclic barrier with all-or-none breakage.
 * - {@link Latch}: one-shot countdown.
 * - {@link Counter}: 64-bit atomic integer.
 */
export { Barrier, type BarrierHandle } from './barrier.js';
export { Counter, type CounterHandle } from './counter.js';
export { Latch, type LatchHandle, type LatchOptions } from './latch.js';
export { Mutex, MutexGuard, type MutexHandle } from './mutex.js';
export { ResourceLease, ResourcePool, type ResourceAmounts, type ResourcePoolHandle, type ResourcePoolOptions } from './resource-pool.js';
export { recoverLocksOf, watchWorker } from './robust.js';
export { RwLock, RwLockGuard, type RwLockHandle, type RwLockOptions } from './rwlock.js';
export { Semaphore, SemaphorePermit, type SemaphoreHandle, type SemaphoreOptions } from './semaphore.js';
