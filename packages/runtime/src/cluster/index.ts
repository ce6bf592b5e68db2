/**
 * `@tributary/runtime/cluster`: the same streams across hosts, on Redis and BullMQ.
 *
 * - {@link ClusterCoordinator}: the coordinator API (`executeParallel`, `stream`, `run`, ...) whose streams run on `tributary-node` processes.
 * - {@link ClusterNode}: what `tributary-node` runs; embed it to run a node in your own process.
 * - Files: {@link RedisFileLocks} (file locks across hosts, `ctx.fileLocks`) and {@link ClusterIsolation}
 *   (per-stream directories on a shared file system, `ctx.directory`, merged as in-process).
 * - Primitives on Redis, usable alone: {@link RedisMutex} (fencing tokens), {@link RedisSemaphore},
 *   {@link RedisBarrier}, {@link RedisLatch}, {@link RedisCounter}, {@link RedisState}, {@link RedisResources};
 *   each hold lives as long as its process's {@link Session} lease.
 *
 * Importing this entry loads `bullmq` and `ioredis`; the `.` and `./sync` entries never do.
 *
 * @module
 */
export { ForbiddenModuleError } from './allow.js';
export { ClusterCoordinator, type ClusterCoordinatorOptions, type ClusterExecuteOptions } from './coordinator.js';
export type { ClusterBarrier, ClusterFileLocks, ClusterMutexGuard, ClusterResources, ClusterState, ClusterStreamContext } from './context.js';
export { ClusterIsolation, RedisFileLocks, type ClusterFileLock } from './files.js';
export { ClusterNode, type ClusterNodeOptions } from './node.js';
export { openRedis, redact, type ConnectionOption } from './connection.js';
export { RedisBarrier } from './primitives/barrier.js';
export { RedisCounter } from './primitives/counter.js';
export { RedisLatch } from './primitives/latch.js';
export { RedisMutex, RedisMutexGuard } from './primitives/mutex.js';
export { RedisResources } from './primitives/resources.js';
export { RedisSemaphore } from './primitives/semaphore.js';
export { Session, type SessionOptions } from './primitives/session.js';
export { RedisState, type RedisStateOptions } from './primitives/state.js';
