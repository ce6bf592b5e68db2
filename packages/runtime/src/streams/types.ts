/**
 * Public types of the streams layer: what a caller hands the coordinator and what it gets back.
 * Durations are milliseconds; instants are epoch milliseconds.
 */
import type { TransferListItem } from 'node:worker_threads';
import type { FileLockManager } from '../fs/file-lock-manager.js';
import type { ImmutableStateManager } from '../protocols/immutable-state.js';
import type { ResourceNegotiationProtocol } from '../protocols/resource-negotiation.js';
import type { Barrier } from '../sync/barrier.js';
import type { ConvergenceEvent, ConvergenceType } from './convergence/index.js';

export type { ConvergenceType };

/** One unit of parallel work. */
export interface StreamSpec {
  /** Unique, non-empty id within a run. */
  readonly id: string;
  /**
   * Module path (resolved against the working directory) or URL whose default export, or
   * `export`, is called as `fn(input, ctx)` in a worker. Without it the built-in `simulate`
   * stream runs for `durationMs`.
   */
  readonly task?: string | URL;
  /** Named export to call instead of the default one. */
  readonly export?: string;
  /**
   * Structured-cloneable input handed to the stream function. SharedArrayBuffers in it stay
   * shared; a `Piscina.move(value)` input is moved (as if its buffers were in `transfer`).
   * Default: undefined.
   */
  readonly input?: unknown;
  /**
   * Objects in `input` to move to the worker instead of copying them (ArrayBuffers, typed
   * arrays' buffers, MessagePorts), as `postMessage` does: they are detached here. A stream
   * that moved its input cannot be restarted (its input is gone); it fails instead. Default: none.
   */
  readonly transfer?: readonly (TransferListItem | ArrayBufferView)[];
  /** For the built-in `simulate` stream: how long to burn CPU. Default 0. */
  readonly durationMs?: number;
  /**
   * Wall-clock budget of one attempt, counted from when the stream function is called (never
   * queue or module-load time). On expiry its `ctx.signal` aborts with a `TimeoutError`, its
   * thread is terminated after the coordinator's `cancelGraceMs` if it does not stop, and it
   * fails with `TimeoutError`. Default: no limit.
   */
  readonly timeoutMs?: number;
}

/** How a stream ended. */
export type StreamStatus = 'complete' | 'failed' | 'cancelled';

/** A stream error as it crosses threads: the original name, message, stack and code. */
export interface StreamErrorInfo {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  /** The error's own data properties (`error.status`, `error.details`, ...), when it had any that can be cloned. */
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** The outcome of one stream. */
export interface StreamResult<T = unknown> {
  readonly id: string;
  readonly status: StreamStatus;
  /** What the stream function returned (status `complete`). */
  readonly value?: T;
  /** Why it failed or was cancelled. */
  readonly error?: StreamErrorInfo;
  /** When its first attempt started running (epoch ms); when it was queued if it never ran. */
  readonly startedAt: number;
  /** When it settled (epoch ms). */
  readonly completedAt: number;
  /** Attempts made (1 unless the guardian restarted it). */
  readonly attempts: number;
}

/** What the checkpoint callback receives at every aligned checkpoint. */
export interface CheckpointRecord {
  /** 1 for the first checkpoint of a run, then 2, 3, ... */
  readonly epoch: number;
  /** When the checkpoint was taken (epoch ms). */
  readonly timestamp: number;
  /** Ids of the streams running when it was raised. */
  readonly streams: readonly string[];
  /** Progress (0..1) of every stream of the run, by id. */
  readonly progress: Readonly<Record<string, number>>;
  /** Running streams that did not reach `ctx.checkpoint()` within the interval. */
  readonly lagging: readonly string[];
}

/**
 * Options of `configureConvergence`: the defaults for later runs. A discriminated union on
 * `type`, so the callback's argument is typed: `barrier` hears once with every result,
 * `progressive` with each result as its stream settles, `checkpoint` with each
 * {@link CheckpointRecord}. A callback that throws or rejects fails the run with `CallbackError`.
 */
export type ConvergenceOptions = {
  readonly [K in ConvergenceType]: {
    readonly type: K;
    /** Checkpoint interval (used by type `checkpoint`). Default: the last one configured, first 1000. */
    readonly intervalMs?: number;
    /** Hears of the run's convergence as the type says. Default: none. */
    readonly callback?: (event: ConvergenceEvent<K>) => unknown;
  };
}[ConvergenceType];

/** Options of one `executeParallel` call. */
export interface ExecuteOptions {
  /** Overrides the configured convergence type for this run. Default: the configured one (first `barrier`). */
  readonly convergenceType?: ConvergenceType;
  /** Aborts the run: queued streams never start, running ones are cancelled. Default: none. */
  readonly signal?: AbortSignal;
  /**
   * Wall-clock budget of the whole run: on expiry queued streams end `cancelled` and running
   * ones fail with `TimeoutError` as a stream's own `timeoutMs` would. Default: no limit.
   */
  readonly timeoutMs?: number;
}

/** Options of `coordinator.stream()`. */
export interface StreamOptions extends Omit<ExecuteOptions, 'convergenceType'> {
  /**
   * Most streams queued, running, or settled but not yet consumed from the loop. With it (or
   * with a source that is not an array) specs are pulled from the source as results are
   * consumed, so memory stays flat over any number of streams. Default for a non-array
   * source: 1024; for an array without it: the whole array at once.
   */
  readonly maxInFlight?: number;
}

/** Lifecycle states of a registered stream. */
export type StreamState = 'registered' | 'queued' | 'running' | 'completed' | 'failed' | 'cancelled' | 'recovered';

/** What the registry knows of a stream, live while a run goes on. */
export interface StreamRecord {
  readonly id: string;
  /** The run the stream belongs to (runs of one coordinator are numbered from 1). */
  readonly run: number;
  readonly state: StreamState;
  readonly attempt: number;
  /** Thread running it (when running). */
  readonly threadId: number | undefined;
  readonly registeredAt: number;
  readonly startedAt: number | undefined;
  readonly completedAt: number | undefined;
  /** Last heartbeat (epoch ms), if it has beaten. */
  readonly lastHeartbeat: number | undefined;
  /** Last reported progress, 0..1. */
  readonly progress: number;
}

/**
 * What a stream function receives. Heartbeat and progress are single `Atomics` stores into
 * shared memory (no message), so they work while the worker's event loop is busy.
 *
 * A context serves one attempt: once the stream function has returned (or thrown), a timer or
 * promise it left behind finds `heartbeat()`, `progress()`, `checkpoint()` and
 * `throwIfAborted()` doing nothing, `signal` aborted (if first read then) and `barrier`
 * throwing InvalidStateError.
 */
export interface StreamContext {
  /** The stream's id. */
  readonly id: string;
  /** 1 on the first run, 2 after the first restart, ... */
  readonly attempt: number;
  /** The last heartbeat details of the previous attempt, when restarted. */
  readonly resume: unknown;
  /**
   * Aborted when the stream is cancelled or its time budget runs out (reason: `AbortedError`
   * or `TimeoutError`). The cancel lives in shared memory, so a CPU-bound stream sees it at its
   * next `heartbeat()`, `progress()`, `checkpoint()`, `throwIfAborted()` or Tributary wait.
   */
  readonly signal: AbortSignal;
  /** Throws the abort reason when the stream was cancelled or timed out; a cheap check for loops. */
  throwIfAborted(): void;
  /**
   * Marks `value`, the object this stream will return, to be moved back rather than copied:
   * the objects in `list` (ArrayBuffers, typed arrays' buffers, MessagePorts) are transferred.
   * Returns `value`, so a stream can `return ctx.transfer(result, [result.buffer])`.
   */
  transfer<T extends object>(value: T, list: readonly (TransferListItem | ArrayBufferView)[]): T;
  /** Says "alive"; `details` (structured-cloneable) are kept for a restart. */
  heartbeat(details?: unknown): void;
  /** Reports progress in [0, 1]; also counts as a heartbeat. */
  progress(fraction: number, details?: unknown): void;
  /**
   * A safe point. When an aligned checkpoint is pending, blocks until every running stream
   * arrived or the interval passed. Throws `AbortedError` once the run is cancelled.
   */
  checkpoint(): void;
  /** A barrier over every stream of this run: `ctx.barrier.wait()` meets the others. */
  readonly barrier: Barrier;
  /** The coordinator's versioned shared state (`coordinator.state`), usable from this worker. */
  readonly state: ImmutableStateManager<Record<string, unknown>>;
  /** The coordinator's resource pool, when it was created with `resources`. */
  readonly resources: ResourceNegotiationProtocol | undefined;
  /** File locks shared with the coordinator and every other stream (and other processes). */
  readonly fileLocks: FileLockManager;
  /** This attempt's own directory, when the coordinator was created with `isolation`. */
  readonly directory: string | undefined;
}

/** A stream function, as a stream module exports it. */
export type StreamFunction<I = unknown, O = unknown> = (input: I, ctx: StreamContext) => O | Promise<O>;
