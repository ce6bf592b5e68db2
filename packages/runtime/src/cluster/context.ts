/**
 * The worker-side context of a cluster stream: the same shape and semantics as the
 * in-process `StreamContext`, backed by Redis through the node's main thread. Heartbeat and
 * progress are stores into shared words (the node forwards them to Redis in batches);
 * checkpoint reads a shared word on its fast path; barrier, state, resources and mutexes are
 * blocking calls over the {@link BridgeClient}.
 */
import { AbortedError, InvalidArgumentError, InvalidStateError, TimeoutError } from '../shared/errors.js';
import * as atomics from '../shared/atomics.js';
import { isAborted, linkAbortToWord, startWait, type WaitOptions } from '../shared/wait.js';
import type { StateVersion } from '../protocols/immutable-state.js';
import type { RequestOptions, ResourceGrant } from '../protocols/resource-negotiation.js';
import type { ResourceAmounts } from '../sync/resource-pool.js';
import type { LockMode } from '../fs/lock-table.js';
import type { BridgeClient } from './bridge.js';
import type { ClusterFileLock } from './files.js';
import { BEAT, CANCEL, CP_EPOCH, PROGRESS, PROGRESS_SCALE } from './job.js';

/** `ctx.barrier` of a cluster stream: every stream of the run is a party. */
export interface ClusterBarrier {
  /** Parties needed to trip (the run's stream count). */
  readonly parties: number;
  /** Arrives and blocks until every stream arrived. @throws BrokenBarrierError | TimeoutError | AbortedError */
  wait(options?: Pick<WaitOptions, 'timeoutMs'>): boolean;
  /** Breaks the current round for every party. */
  break(): void;
}

/** `ctx.state` of a cluster stream: the coordinator's versioned state in Redis (JSON values). */
export interface ClusterState<S = Record<string, unknown>> {
  /** The current version (a blocking read). */
  current(): StateVersion<S>;
  /** The current state. */
  getCurrentState(): S;
  /** Commits `fn(current)` as the next version, retrying on conflicts (default timeout 30,000). `fn` must be pure. */
  createNewVersionSync(fn: (state: S) => S, streamId: string, options?: Pick<WaitOptions, 'timeoutMs'>): StateVersion<S>;
  /** The same as `createNewVersionSync`, as a promise (the thread blocks either way). */
  createNewVersion(fn: (state: S) => S, streamId: string, options?: Pick<WaitOptions, 'timeoutMs'>): Promise<StateVersion<S>>;
  /** Waits until the state reaches `version`; without a timeout, until the run is cancelled. */
  waitForVersion(version: number, options?: Pick<WaitOptions, 'timeoutMs'>): Promise<StateVersion<S>>;
}

/** `ctx.resources` of a cluster stream: the coordinator's pool in Redis. */
export interface ClusterResources {
  /** Asks for `request`: granted in full, negotiated down to `min`, queued FIFO for `waitMs`, or refused (the grant says why). */
  requestResources(streamId: string, request: ResourceAmounts, options?: RequestOptions): Promise<ResourceGrant>;
  /** Gives back what `streamId` holds (the node also does so when the attempt ends). */
  releaseResources(streamId: string): Promise<Record<string, number>>;
  /** What `streamId` holds now. */
  holdings(streamId: string): Promise<Record<string, number>>;
}

/** A held cluster mutex (from `ctx.mutex(name).lock()`). */
export interface ClusterMutexGuard {
  /** Fencing token of this grant: higher than any before it. */
  readonly token: number;
  /** The previous holder's node (or stream attempt) died holding it. */
  readonly ownerDied: boolean;
  /** Releases the lock. @throws InvalidStateError when already released; NotOwnerError when its lease lapsed meanwhile. */
  unlock(): void;
}

/**
 * `ctx.fileLocks` of a cluster stream: the in-process `FileLockManager.acquireFileLock`, across
 * hosts (a fenced Redis mutex per file; see `files.ts`). Every lock is exclusive, `read` too.
 */
export interface ClusterFileLocks {
  /**
   * Locks `path` (resolved on the node), waiting up to `options.timeoutMs` (default: the
   * coordinator's `fileLocks.timeoutMs`, 30,000). The thread blocks while it waits (it beats).
   * @throws ConflictError when it cannot be had in time; AbortedError once the run is cancelled;
   * InvalidArgumentError for a bad mode, a directory or a missing directory; FileSystemError
   * (with `errno` and `path`) when the file system refuses the path.
   */
  acquireFileLock(path: string, mode?: LockMode, options?: Pick<WaitOptions, 'timeoutMs'>): Promise<ClusterFileLock>;
}

/**
 * What a cluster stream function receives: the in-process `StreamContext` (with `fileLocks`
 * across hosts and `directory` on the shared file system), plus `mutex(name)`. A stream written
 * against those members runs unchanged.
 */
export interface ClusterStreamContext {
  /** The stream's id. */
  readonly id: string;
  /** 1 on the first run; higher after its node died and another node re-ran it. */
  readonly attempt: number;
  /** The last heartbeat details (JSON) the previous attempt sent, on a re-run. */
  readonly resume: unknown;
  /** Aborted when the run is cancelled (seen at heartbeat, progress and checkpoint calls). */
  readonly signal: AbortSignal;
  /** Says "alive"; `details` (JSON) are kept for a re-run's `resume`. A store into shared memory; forwarded in batches. */
  heartbeat(details?: unknown): void;
  /** Reports progress in [0, 1]; also counts as a heartbeat. */
  progress(fraction: number, details?: unknown): void;
  /** A safe point: joins a pending aligned checkpoint (until all arrived or the interval passed). @throws AbortedError once cancelled. */
  checkpoint(): void;
  /** A barrier over every stream of the run, across nodes. */
  readonly barrier: ClusterBarrier;
  /** The coordinator's versioned state. */
  readonly state: ClusterState;
  /** The coordinator's resource pool, when it was created with `resources`. */
  readonly resources: ClusterResources | undefined;
  /** File locks shared with every stream on every node (and the coordinator's `fileLocks`). */
  readonly fileLocks: ClusterFileLocks;
  /**
   * This attempt's own directory on the shared file system, when the coordinator was created
   * with `isolation: true` (`<shared root>/streams/<run>/<stream>/attempt-<n>`, as the node sees it).
   */
  readonly directory: string | undefined;
  /** A mutex shared by every stream of every run of this coordinator, across nodes. */
  mutex(name: string): { lock(options?: Pick<WaitOptions, 'timeoutMs'>): ClusterMutexGuard };
}

/** What the worker entry knows when it builds a context. */
export interface ClusterContextInit {
  readonly id: string;
  readonly attempt: number;
  readonly resume: unknown;
  readonly words: Int32Array;
  readonly bridge: BridgeClient;
  readonly parties: number;
  readonly hasResources: boolean;
  readonly checkpointLimitMs: number;
  readonly directory: string | undefined;
}

/** Blocking state updates retry on conflicts for this long by default. */
const STATE_TIMEOUT_MS = 30_000;

/** Builds the context a cluster stream function receives. */
export function createClusterContext(init: ClusterContextInit): ClusterStreamContext {
  const { bridge, words } = init;
  const started = Date.now();
  let seenEpoch = 0;
  let signal: AbortSignal | undefined;
  const getSignal = (): AbortSignal => {
    if (signal === undefined) {
      const controller = new AbortController();
      // The node cancels through a shared word: this thread may be too busy for messages.
      linkAbortToWord(controller, words, CANCEL);
      signal = controller.signal;
    }
    return signal;
  };
  const heartbeat = (details?: unknown): void => {
    atomics.store(words, BEAT, Date.now() - started + 1);
    if (details !== undefined) bridge.send('details', details);
  };
  const state: ClusterState = {
    current: () => bridge.call('stateCurrent', null, 0),
    getCurrentState: () => state.current().state,
    createNewVersionSync(fn, streamId, options) {
      if (typeof fn !== 'function') throw new InvalidArgumentError('fn must be a function from the current state to the next');
      const wait = startWait('ctx.state.createNewVersionSync', { timeoutMs: options?.timeoutMs ?? STATE_TIMEOUT_MS });
      for (;;) {
        const base = state.current();
        const next = { version: base.version + 1, state: fn(base.state), streamId, createdAt: Date.now() };
        if (bridge.call<boolean>('stateCommit', { expected: base.version, record: next }, 0)) return next;
        if (Date.now() >= wait.deadline) {
          throw new TimeoutError(`ctx.state.createNewVersionSync kept conflicting for ${wait.timeoutMs} ms; raise options.timeoutMs or update less often`);
        }
      }
    },
    createNewVersion: async (fn, streamId, options) => state.createNewVersionSync(fn, streamId, options),
    waitForVersion: async (version, options) => bridge.call('stateWait', { version, timeoutMs: options?.timeoutMs }, options?.timeoutMs),
  };
  const resources: ClusterResources = {
    requestResources: async (streamId, request, options) => bridge.call('resourcesRequest', { streamId, request, options }, options?.waitMs ?? 0),
    releaseResources: async (streamId) => bridge.call('resourcesRelease', { streamId }, 0),
    holdings: async (streamId) => bridge.call('resourcesHoldings', { streamId }, 0),
  };
  return {
    id: init.id,
    attempt: init.attempt,
    resume: init.resume,
    get signal() {
      return getSignal();
    },
    heartbeat,
    progress(fraction, details) {
      const clamped = fraction >= 1 ? 1 : fraction > 0 ? fraction : 0;
      atomics.store(words, PROGRESS, Math.round(clamped * PROGRESS_SCALE));
      heartbeat(details);
    },
    checkpoint() {
      if (isAborted(getSignal())) throw new AbortedError(`stream ${init.id} was cancelled`);
      // Fast path: one load, no pending checkpoint this stream has not joined.
      const epoch = atomics.load(words, CP_EPOCH);
      if (epoch <= seenEpoch) return;
      seenEpoch = epoch;
      bridge.call('checkpoint', { epoch }, init.checkpointLimitMs);
      if (isAborted(getSignal())) throw new AbortedError(`stream ${init.id} was cancelled`);
    },
    barrier: {
      parties: init.parties,
      wait: (options) => bridge.call('barrierWait', { timeoutMs: options?.timeoutMs }, options?.timeoutMs),
      break: () => bridge.call('barrierBreak', null, 0),
    },
    state,
    resources: init.hasResources ? resources : undefined,
    fileLocks: {
      async acquireFileLock(path, mode = 'write', options) {
        const r = bridge.call<{ path: string; token: number; ownerDied: boolean }>('fileLock', { path, mode, timeoutMs: options?.timeoutMs }, options?.timeoutMs);
        let held = true;
        const release = async (): Promise<void> => {
          if (!held) return;
          held = false;
          bridge.call('fileUnlock', { path: r.path, token: r.token }, 0);
        };
        return {
          ...r,
          mode,
          get held() {
            return held;
          },
          release,
          [Symbol.asyncDispose]: release,
        };
      },
    },
    directory: init.directory,
    mutex: (name) => ({
      lock(options) {
        const r = bridge.call<{ token: number; ownerDied: boolean }>('mutexLock', { name, timeoutMs: options?.timeoutMs }, options?.timeoutMs);
        let held = true;
        return {
          ...r,
          unlock() {
            if (!held) throw new InvalidStateError('this guard already unlocked its mutex; unlock each guard once');
            held = false;
            bridge.call('mutexUnlock', { name, token: r.token }, 0);
          },
        };
      },
    }),
  };
}
