/**
 * ClusterCoordinator: the `StreamCoordinator` API with streams running on `tributary-node`
 * processes across hosts, through Redis and BullMQ. A stream module does not change: the same
 * `(input, ctx) => result`, with `ctx.barrier`, `ctx.state`, `ctx.resources`, heartbeats,
 * progress, checkpoints and `ctx.signal` backed by Redis.
 *
 * **Failure model.** Execution is at least once (BullMQ): a node that dies mid-stream has its
 * streams re-run by another node within the job lock duration, and `attempts` grows. Results
 * are exactly once per stream id: the first end of a stream wins and later ones are dropped.
 * Inputs and results travel as JSON.
 *
 * @example
 * ```ts
 * await using coordinator = new ClusterCoordinator({ connection: 'redis://10.0.0.5:6379', name: 'render' });
 * const results = await coordinator.executeParallel([{ id: 'a', task: '/srv/streams/render.js', input: 1 }]);
 * ```
 */
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { InvalidArgumentError, InvalidStateError } from '../shared/errors.js';
import { filePath, nonEmptyString, nonNegativeFinite, optionsObject, positiveFinite, positiveInteger } from '../shared/validate.js';
import type { CheckpointRecord, ConvergenceOptions, ConvergenceType, ExecuteOptions, StreamResult, StreamSpec } from '../streams/types.js';
import { convergenceType, intervalMs, runSignal } from '../streams/validate.js';
import type { ResourceAmounts } from '../sync/resource-pool.js';
import { supervisionOptions, type RestartBudget, type Supervision } from '../streams/supervisor.js';
import type { Guardian } from '../protocols/heartbeat.js';
import { bullConnection, openRedis, type ConnectionOption } from './connection.js';
import { ClusterIsolation, FILE_LOCK_TIMEOUT_MS, RedisFileLocks } from './files.js';
import type { AttemptOutcome, StreamJob } from './job.js';
import { within } from './primitives/poll.js';
import { RedisResources } from './primitives/resources.js';
import { Session } from './primitives/session.js';
import { RedisState } from './primitives/state.js';
import { ClusterRun } from './run.js';
import { clusterSpecs } from './specs.js';

/** Options of a {@link ClusterCoordinator}. */
export interface ClusterCoordinatorOptions {
  /** Where Redis is: a URL (`redis://`, `rediss://` for TLS, credentials allowed), a socket path, ioredis options or client. */
  readonly connection: ConnectionOption;
  /** The queue, shared with the nodes started with `--name`; also names `state` and `resources`. Default `tributary`. */
  readonly name?: string;
  /** Key prefix of the deployment (nodes must use the same). Default `tributary`. */
  readonly prefix?: string;
  /** Capacity of the resource pool streams negotiate over (`ctx.resources`, `coordinator.resources`). */
  readonly resources?: ResourceAmounts;
  /** Versions kept by `coordinator.state` / `ctx.state`. Default 100. */
  readonly maxVersions?: number;
  /**
   * How long Redis may stay unreachable during a run before its unsettled streams fail (with a
   * StreamError saying so) instead of waiting for it to come back. Default 60,000.
   */
  readonly unreachableMs?: number;
  /**
   * Enables heartbeat supervision, as `StreamCoordinator`'s option: a running stream whose node
   * lives but that has not beaten for this long is stuck (a stream parked in `ctx.barrier`,
   * `ctx.mutex`, `ctx.state` or `ctx.fileLocks` waits beats). Its nodes forward beats every 100 ms,
   * so keep it well above that. Default: no supervision.
   */
  readonly heartbeatTimeoutMs?: number;
  /** How often heartbeats are checked. Default: a quarter of heartbeatTimeoutMs, at most 1000. */
  readonly heartbeatCheckIntervalMs?: number;
  /**
   * Decides what happens to a stuck stream, on the coordinator's process. Default: restart it
   * (its node ends the attempt and any node re-runs it with `ctx.attempt + 1` and `ctx.resume`).
   */
  readonly guardian?: Guardian;
  /** Restarts allowed per stream before it fails with a StreamError. Default: 3 within 60,000 ms. */
  readonly restartBudget?: RestartBudget;
  /**
   * This host's path to the file system the nodes share (each node names its own with
   * `--shared-root`): where `isolation` merges from, and what `fileLocks` keys paths under
   * relative to. Default: none.
   */
  readonly sharedRoot?: string;
  /**
   * Gives every stream attempt its own directory on the shared file system (`ctx.directory`,
   * made by its node under its `--shared-root`); `coordinator.isolation` merges them with the
   * in-process rules. Needs `sharedRoot`. Default false.
   */
  readonly isolation?: boolean;
  /** File locks (`coordinator.fileLocks`, `ctx.fileLocks`): `timeoutMs` is the default wait. Default 30,000. */
  readonly fileLocks?: { readonly timeoutMs?: number };
}

/** Options of one cluster run. */
export interface ClusterExecuteOptions extends ExecuteOptions {
  /** Cancels the run if it has not converged within this long; its unfinished streams settle as cancelled with a TimeoutError. */
  readonly timeoutMs?: number;
}

const DEFAULT_INTERVAL_MS = 1000;
/** How long `close()` waits for BullMQ's connections to close (Redis may be unreachable). */
const CLOSE_MS = 2000;

/** Runs streams on the cluster's nodes and converges their results. See the module documentation. */
export class ClusterCoordinator implements AsyncDisposable {
  /** Versioned shared state in Redis (`ctx.state` of every stream). */
  readonly state: RedisState<Record<string, unknown>>;
  /** The resource pool streams negotiate over, when created with `resources`. */
  readonly resources: RedisResources | undefined;
  /** File locks shared with every stream's `ctx.fileLocks`, on every node. Take them after `connect()`. */
  readonly fileLocks: RedisFileLocks;
  /** The runs' per-stream directories (`ctx.directory`), when created with `isolation: true`; merge them after a run. */
  readonly isolation: ClusterIsolation | undefined;
  readonly #fileLockTimeoutMs: number;
  readonly #name: string;
  readonly #redis: Redis;
  readonly #session: Session;
  readonly #queue: Queue<StreamJob, AttemptOutcome>;
  readonly #events: QueueEvents;
  /** The clients handed to BullMQ, which never closes a client it was given. */
  readonly #bullClients: readonly Redis[];
  readonly #maxVersions: number;
  readonly #capacity: ResourceAmounts | undefined;
  readonly #unreachableMs: number;
  readonly #supervision: Supervision | undefined;
  #ready: Promise<void> | undefined;
  #convergence: { type: ConvergenceType; intervalMs: number; callback: ((event: never) => void) | undefined } = {
    type: 'barrier',
    intervalMs: DEFAULT_INTERVAL_MS,
    callback: undefined,
  };
  #run: ClusterRun | undefined;
  #convergenceTime = 0;
  #closed = false;

  constructor(options: ClusterCoordinatorOptions) {
    const o = optionsObject('options', options);
    if (o.connection === undefined) throw new InvalidArgumentError('options.connection is required: a Redis URL, socket path, ioredis options or client');
    this.#name = o.name === undefined ? 'tributary' : nonEmptyString('options.name', o.name);
    this.#maxVersions = o.maxVersions === undefined ? 100 : positiveInteger('options.maxVersions', o.maxVersions, 1_000_000);
    this.#redis = openRedis(o.connection);
    this.#session = new Session(this.#redis, { prefix: o.prefix });
    const prefix = this.#session.prefix;
    const [queueClient, eventsClient] = [bullConnection(o.connection), bullConnection(o.connection)];
    this.#bullClients = [queueClient, eventsClient];
    this.#queue = new Queue(this.#name, { connection: queueClient, prefix });
    this.#events = new QueueEvents(this.#name, { connection: eventsClient, prefix });
    // Connection errors are transient (ioredis reconnects) and reach callers through commands;
    // without listeners BullMQ would print every one.
    this.#queue.on('error', () => {});
    this.#events.on('error', () => {});
    this.state = new RedisState(this.#session, this.#name, { maxVersions: this.#maxVersions });
    this.#capacity = o.resources;
    this.#unreachableMs = o.unreachableMs === undefined ? 60_000 : positiveFinite('options.unreachableMs', o.unreachableMs);
    this.#supervision = supervisionOptions(o);
    const files = optionsObject('options.fileLocks', o.fileLocks);
    this.#fileLockTimeoutMs = files.timeoutMs === undefined ? FILE_LOCK_TIMEOUT_MS : nonNegativeFinite('options.fileLocks.timeoutMs', files.timeoutMs);
    const sharedRoot = o.sharedRoot === undefined ? undefined : filePath('options.sharedRoot', o.sharedRoot);
    this.fileLocks = new RedisFileLocks(this.#session, { sharedRoot, timeoutMs: this.#fileLockTimeoutMs });
    if (o.isolation !== undefined && typeof o.isolation !== 'boolean') throw new InvalidArgumentError('options.isolation must be a boolean');
    if (o.isolation === true && sharedRoot === undefined) {
      throw new InvalidArgumentError('options.isolation needs options.sharedRoot: the path, on this host, of the file system the nodes share (their --shared-root)');
    }
    this.isolation = o.isolation === true ? new ClusterIsolation(sharedRoot!) : undefined;
    this.resources = o.resources === undefined ? undefined : new RedisResources(this.#session, this.#name);
  }

  /**
   * Connects, takes this coordinator's session lease and publishes the resource capacity. Runs
   * do this themselves; call it to use `state` or `resources` before the first run.
   */
  connect(): Promise<void> {
    return (this.#ready ??= this.#connect().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    }));
  }

  /** Milliseconds from the start of the last run to its last stream settling. */
  get convergenceTime(): number {
    return this.#convergenceTime;
  }

  /** Sets the convergence used by later runs that do not name one. */
  configureConvergence(options: ConvergenceOptions): void {
    const o = optionsObject('options', options);
    const type = convergenceType('options.type', o.type);
    const every = o.intervalMs === undefined ? this.#convergence.intervalMs : intervalMs(o.intervalMs);
    if (o.callback !== undefined && typeof o.callback !== 'function') throw new InvalidArgumentError('options.callback must be a function');
    this.#convergence = { type, intervalMs: every, callback: o.callback };
  }

  /**
   * Runs `streams` across the nodes and resolves with one result per stream, in input order,
   * once all have settled. Rejects only for bad input or a closed or busy coordinator.
   */
  async executeParallel(streams: readonly StreamSpec[], options?: ClusterExecuteOptions): Promise<StreamResult[]> {
    return (await this.#start(streams, options, undefined)).done;
  }

  /** Runs one stream and resolves with its result. */
  async run(spec: StreamSpec, options?: ClusterExecuteOptions): Promise<StreamResult> {
    return (await this.executeParallel([spec], options))[0]!;
  }

  /** Runs `streams` and yields each result as it settles; leaving the loop early cancels the rest. */
  async *stream(streams: readonly StreamSpec[], options?: ClusterExecuteOptions): AsyncGenerator<StreamResult, void, undefined> {
    const ready: StreamResult[] = [];
    let wake: (() => void) | undefined;
    const run = await this.#start(streams, { ...options, convergenceType: 'progressive' }, (r) => {
      ready.push(r);
      wake?.();
    });
    let delivered = 0;
    try {
      while (delivered < streams.length) {
        if (ready.length === 0) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        while (ready.length > 0) {
          delivered++;
          yield ready.shift()!;
        }
      }
    } finally {
      if (delivered < streams.length) {
        run.cancel(new Error('the consumer left the stream() loop'));
        await run.done;
      }
    }
  }

  /** Cancels a run in progress and closes the connections. Nodes keep running. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const run = this.#run;
    run?.cancel(new Error('coordinator closed'));
    await run?.done;
    await within(Promise.allSettled([this.#events.close(), this.#queue.close()]), CLOSE_MS);
    await this.#session.close();
    this.#redis.disconnect();
    // Without this their sockets kept the caller's process alive after close().
    for (const client of this.#bullClients) client.disconnect();
  }

  /** `await using coordinator = new ClusterCoordinator(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #start(streams: readonly StreamSpec[], options: ClusterExecuteOptions | undefined, sink: ((r: StreamResult) => void) | undefined): Promise<ClusterRun> {
    if (this.#closed) throw new InvalidStateError('this ClusterCoordinator is closed; create a new one');
    if (this.#run !== undefined) throw new InvalidStateError('a run is already in progress on this coordinator; await it or use another coordinator');
    const o = optionsObject('options', options);
    const specs = clusterSpecs(streams);
    const type = o.convergenceType === undefined ? this.#convergence.type : convergenceType('options.convergenceType', o.convergenceType);
    const signal = runSignal(o.signal);
    const timeoutMs = o.timeoutMs === undefined ? undefined : positiveFinite('options.timeoutMs', o.timeoutMs);
    const callback = this.#convergence.callback as ((event: unknown) => void) | undefined;
    const run = new ClusterRun(
      { session: this.#session, queue: this.#queue, events: this.#events, scope: this.#name, resources: this.resources !== undefined,
        maxVersions: this.#maxVersions,
        unreachableMs: this.#unreachableMs,
        supervision: this.#supervision,
        isolation: this.isolation,
        fileLockTimeoutMs: this.#fileLockTimeoutMs,
      },
      specs,
      {
        convergence: type,
        intervalMs: this.#convergence.intervalMs,
        signal,
        timeoutMs,
        onResult: (r) => {
          sink?.(r);
          if (type === 'progressive') callback?.(r);
        },
        onCheckpoint: (record: CheckpointRecord) => callback?.(record),
      },
    );
    this.#run = run;
    const startedAt = Date.now();
    try {
      await this.connect();
      await run.start();
    } catch (error) {
      this.#run = undefined;
      throw error;
    }
    void run.done.then((results) => {
      this.#convergenceTime = Date.now() - startedAt;
      this.#run = undefined;
      if (type === 'barrier') callback?.(results);
    });
    return run;
  }

  async #connect(): Promise<void> {
    await this.#session.start();
    // Events must be heard before the first job is added, or a fast stream's end could be missed.
    await this.#events.waitUntilReady();
    if (this.#capacity !== undefined) await this.resources!.setCapacity(this.#capacity);
  }
}
