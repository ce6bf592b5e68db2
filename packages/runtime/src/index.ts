/**
 * Tributary: parallel CPU-bound streams on Node.js worker threads, coordinated through shared memory.
 *
 * @packageDocumentation
 */
export { Arena, type Placement, type Region } from './shared/arena.js';
export { atomicsStats, type AtomicsStats } from './shared/atomics.js';
export {
  AbortedError,
  BrokenBarrierError,
  CapacityError,
  ConflictError,
  InvalidArgumentError,
  InvalidStateError,
  MergeConflictError,
  NotOwnerError,
  ResourceError,
  StreamError,
  TimeoutError,
  TributaryError,
  type MergeConflict,
  type TributaryErrorCode,
} from './shared/errors.js';
export type { Handle } from './shared/handle.js';
export type { WaitOptions } from './shared/wait.js';
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
  type BarrierHandle,
  type CounterHandle,
  type LatchHandle,
  type LatchOptions,
  type MutexHandle,
  type ResourceAmounts,
  type ResourcePoolHandle,
  type ResourcePoolOptions,
  type RwLockHandle,
  type RwLockOptions,
  type SemaphoreHandle,
  type SemaphoreOptions,
} from './sync/index.js';
export {
  HeartbeatProtocol,
  HeartbeatSender,
  type Guardian,
  type GuardianAction,
  type GuardianDecision,
  type GuardianRequest,
  type HeartbeatOptions,
  type HeartbeatProbe,
  type HeartbeatSenderHandle,
} from './protocols/heartbeat.js';
export { StreamCoordinator, type CoordinatorOptions } from './streams/coordinator.js';
export type { StreamRegistry } from './streams/registry.js';
export type { RestartBudget, RunStats } from './streams/run.js';
export type {
  CheckpointRecord,
  ConvergenceOptions,
  ConvergenceType,
  ExecuteOptions,
  StreamContext,
  StreamErrorInfo,
  StreamFunction,
  StreamRecord,
  StreamResult,
  StreamSpec,
  StreamState,
  StreamStatus,
} from './streams/types.js';
export {
  ImmutableStateManager,
  type ImmutableStateHandle,
  type ImmutableStateOptions,
  type StateVersion,
} from './protocols/immutable-state.js';
export {
  ResourceNegotiationProtocol,
  type RefusalReason,
  type RequestOptions,
  type ResourceGrant,
  type ResourceNegotiationHandle,
} from './protocols/resource-negotiation.js';
export {
  DirectoryIsolation,
  type ConflictResolver,
  type ConflictVersion,
  type MergeEntry,
  type MergeOptions,
} from './fs/directory-isolation.js';
export {
  FileLock,
  FileLockManager,
  type FileLockManagerHandle,
  type FileLockManagerOptions,
} from './fs/file-lock-manager.js';
export type { LockMode } from './fs/lock-table.js';
export type { ProcessLocks } from './fs/process-locks.js';
export {
  ImplementationAgent,
  type AgentOptions,
  type AgentProtocol,
  type CoordinationConfig,
  type IsolationMode,
  type StateManagement,
  type TaskOutcome,
  type TaskRequest,
  type TaskType,
} from './agent/implementation-agent.js';
export type { FeaturePartInput, FeaturePartResult } from './agent/implement-feature.js';
export type { TraceEvent } from './shared/trace.js';
export type { TraceDocument } from './streams/tracer.js';
