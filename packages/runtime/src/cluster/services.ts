/**
 * What a node's main thread does for one stream attempt when its worker thread asks (the
 * bridge ops): the Redis-backed barrier, state, resources, mutexes and checkpoints of
 * `ctx`. Every wait here is bounded by its own timeout and by the run's cancellation.
 */
import type { StateVersion } from '../protocols/immutable-state.js';
import type { RequestOptions } from '../protocols/resource-negotiation.js';
import type { ResourceAmounts } from '../sync/resource-pool.js';
import type { LockMode } from '../fs/lock-table.js';
import type { BridgeHandlers } from './bridge.js';
import { RedisFileLocks } from './files.js';
import { runKeys, RUN_KEY_TTL_S, type StreamJob } from './job.js';
import { RedisBarrier } from './primitives/barrier.js';
import { RedisMutex, type RedisMutexGuard } from './primitives/mutex.js';
import { pollUntil } from './primitives/poll.js';
import { RedisResources } from './primitives/resources.js';
import type { Session } from './primitives/session.js';
import { RedisState } from './primitives/state.js';

/** One attempt's services, and what is left to clean when it ends. */
export interface AttemptServices {
  readonly handlers: BridgeHandlers;
  /** Last heartbeat details sent by the stream (forwarded in batches). */
  takeDetails(): unknown;
  /** Hands back what the attempt still holds: mutexes as owner-died, its resource grants. */
  release(): Promise<void>;
}

/** The barrier every stream of a run meets at. */
export function runBarrier(session: Session, job: StreamJob): RedisBarrier {
  return new RedisBarrier(session, `run:${job.runId}`, job.parties);
}

/**
 * Builds the bridge handlers of one attempt. `signal` aborts once the run is cancelled;
 * `sharedRoot` is the node's path to the shared file system (file-lock keys).
 */
export function attemptServices(session: Session, job: StreamJob, attempt: number, signal: AbortSignal, sharedRoot: string | undefined): AttemptServices {
  const state = new RedisState(session, job.scope, { maxVersions: job.maxVersions });
  const resources = new RedisResources(session, job.scope);
  const holder = `${job.runId}/${job.id}/${attempt}`;
  // Mutex and file-lock guards, keyed by kind, name and token: tokens count per mutex, so two can
  // both grant token 1. What is left at the end goes back as owner-died (see release()).
  const guards = new Map<string, RedisMutexGuard>();
  const files = new RedisFileLocks(session, { sharedRoot, holder, timeoutMs: job.fileLockTimeoutMs });

  let details: unknown;
  let hasDetails = false;
  const keys = runKeys(session.prefix, job.runId);
  const handlers = {
    details: (value: unknown) => {
      details = value;
      hasDetails = true;
    },
    // The stream id is the party: a re-run of a stream whose node died breaks the round.
    barrierWait: (a: { timeoutMs?: number }) => runBarrier(session, job).wait({ timeoutMs: a.timeoutMs, signal, party: job.id }),
    barrierBreak: () => runBarrier(session, job).break(),
    stateCurrent: () => state.current(),
    stateCommit: (a: { record: StateVersion<Record<string, unknown>> }) => state.tryCommit(a.record),
    stateWait: (a: { version: number; timeoutMs?: number }) => state.waitForVersion(a.version, { timeoutMs: a.timeoutMs, signal }),
    resourcesRequest: (a: { streamId: string; request: ResourceAmounts; options?: RequestOptions }) =>
      resources.requestResources(a.streamId, a.request, a.options),
    resourcesRelease: (a: { streamId: string }) => resources.releaseResources(a.streamId),
    resourcesHoldings: (a: { streamId: string }) => resources.holdings(a.streamId),
    mutexLock: async (a: { name: string; timeoutMs?: number }) => {
      const guard = await new RedisMutex(session, `${job.scope}:${a.name}`, holder).lock({ timeoutMs: a.timeoutMs, signal });
      guards.set(`mutex:${a.name}#${guard.token}`, guard);
      return { token: guard.token, ownerDied: guard.ownerDied };
    },
    mutexUnlock: async (a: { name: string; token: number }) => {
      const guard = guards.get(`mutex:${a.name}#${a.token}`);
      guards.delete(`mutex:${a.name}#${a.token}`);
      await guard?.unlock();
    },
    fileUnlock: async (a: { path: string; token: number }) => {
      const guard = guards.get(`file:${a.path}#${a.token}`);
      guards.delete(`file:${a.path}#${a.token}`);
      await guard?.unlock();
    },
    fileLock: async (a: { path: string; mode: LockMode; timeoutMs?: number }) => {
      const { key, guard } = await files.lockGuard(a.path, a.mode, { ...(a.timeoutMs === undefined ? {} : { timeoutMs: a.timeoutMs }), signal });
      guards.set(`file:${key}#${guard.token}`, guard);
      return { path: key, token: guard.token, ownerDied: guard.ownerDied };
    },
    checkpoint: async (a: { epoch: number }) => {
      const arrivals = keys.arrivals(a.epoch);
      await session.redis.multi().sadd(arrivals, job.id).expire(arrivals, RUN_KEY_TTL_S).exec();
      // Past the limit the coordinator has moved on (it reports this stream as lagging): go on.
      await pollUntil(`checkpoint ${a.epoch}`, { timeoutMs: job.intervalMs + 1000, signal }, async () =>
        Number((await session.redis.get(keys.released)) ?? 0) >= a.epoch ? true : undefined,
      ).catch(() => {});
    },
  } satisfies Record<string, (args: never) => unknown>;
  return {
    handlers,
    takeDetails() {
      if (!hasDetails) return undefined;
      hasDetails = false;
      return details;
    },
    async release() {
      // The attempt is over: what it still holds goes back, as if its thread had died.
      for (const guard of guards.values()) await guard.unlock({ ownerDied: true }).catch(() => {});
      guards.clear();

      if (job.resources) await resources.releaseResources(job.id).catch(() => {});
    },
  };
}
