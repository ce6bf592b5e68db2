/**
 * Tributary: parallel CPU-bound streams on Node.js worker threads, coordinated through shared memory.
 *
 * Exports are grouped by layer, from the bottom up (`shared <- sync <- protocols, fs <- streams
 * <- agent`), values then types, each list sorted. The sync layer alone is also published as
 * `@tributary/runtime/sync`, which loads no worker pool.
 *
 * @packageDocumentation
 */

// shared: errors (each with a stable `code`), the options every wait takes, trace events.
export {
  AbortedError,
  BrokenBarrierError,
  CallbackError,
  CapacityError,
  ConflictError,
  DeadlockError,
  FileSystemError,
  InvalidArgumentError,
  InvalidStateError,
  MergeConflictError,
  NotOwnerError,
  ResourceError,
  StreamError,
  TimeoutError,
  TributaryError,
} from './shared/errors.js';
export type { MergeConflict, TributaryErrorCode } from './shared/errors.js';
export type { TraceEvent } from './shared/trace.js';
export type { WaitOptions } from './shared/wait.js';

// sync: primitives over shared memory.
export {
  Barrier,
  Counter,
  Latch,
  Mutex,
  MutexGuard,
  recoverLocksOf,
  ResourceLease,
  ResourcePool,
  RwLock,
  RwLockGuard,
  Semaphore,
  SemaphorePermit,
  watchWorker,
} from './sync/index.js';
export type {
  BarrierHandle,
  CounterHandle,
  LatchHandle,
  LatchOptions,
  MutexHandle,
  ResourceAmounts,
  ResourcePoolHandle,
  ResourcePoolOptions,
  RwLockHandle,
  RwLockOptions,
  SemaphoreHandle,
  SemaphoreOptions,
} from './sync/index.js';

// protocols: heartbeats and guardians, versioned state, resource negotiation.
export { HeartbeatProtocol, HeartbeatSender } from './protocols/heartbeat.js';
export type {
  Guardian,
  GuardianAction,
  GuardianDecision,
  GuardianRequest,
  HeartbeatOptions,
  HeartbeatProbe,
  HeartbeatSenderHandle,
} from './protocols/heartbeat.js';
export { ImmutableStateManager } from './protocols/immutable-state.js';
export type { ImmutableStateHandle, ImmutableStateOptions, StateVersion } from './protocols/immutable-state.js';
export { ResourceNegotiationProtocol } from './protocols/resource-negotiation.js';
export type { RefusalReason, RequestOptions, ResourceGrant, ResourceNegotiationHandle } from './protocols/resource-negotiation.js';

// fs: per-stream directories and file locks across threads and processes.
export { DirectoryIsolation } from './fs/directory-isolation.js';
export type { ConflictResolver, ConflictVersion, MergeEntry, MergeOptions } from './fs/directory-isolation.js';
export { FileLock, FileLockManager } from './fs/file-lock-manager.js';
export type { FileLockManagerHandle, FileLockManagerOptions } from './fs/file-lock-manager.js';
export type { LockMode } from './fs/lock-table.js';

// streams: the coordinator, what a stream gets and what a caller gets back.
export { StreamCoordinator } from './streams/coordinator.js';
export type { CoordinatorOptions } from './streams/coordinator.js';
// Type only, and read-only: runs write through records they open.
export type { StreamRegistryView } from './streams/registry.js';
export type { CoordinatorMetrics, TimeSummary } from './streams/metrics.js';
export type { RunStats } from './streams/run.js';
export type { RestartBudget } from './streams/supervisor.js';
export type { TraceDocument } from './streams/tracer.js';
export type {
  CheckpointRecord,
  ConvergenceOptions,
  ConvergenceType,
  ExecuteOptions,
  StreamContext,
  StreamErrorInfo,
  StreamFunction,
  StreamOptions,
  StreamRecord,
  StreamResult,
  StreamSpec,
  StreamState,
  StreamStatus,
} from './streams/types.js';

// agent: the task facade and its built-in implement_feature task.
export { ImplementationAgent } from './agent/implementation-agent.js';
export type {
  AgentOptions,
  AgentProtocol,
  CoordinationConfig,
  IsolationMode,
  StateManagement,
  TaskOutcome,
  TaskRequest,
  TaskType,
} from './agent/implementation-agent.js';
export type { FeaturePartResult } from './agent/implement-feature.js';
