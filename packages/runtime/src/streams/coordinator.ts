/**
 * StreamCoordinator: runs streams (CPU-bound functions) in parallel on Piscina worker threads
 * and converges their results as asked: `barrier` (all at once), `progressive` (each as it
 * settles) or `checkpoint` (periodic aligned checkpoints with each stream's progress).
 *
 * One run at a time per coordinator. The pool is started at construction, so the first run
 * does not pay for thread start-up.
 *
 * @example
 * ```ts
 * await using coordinator = new StreamCoordinator({ maxThreads: 4 });
 * const results = await coordinator.executeParallel([
 *   { id: 'a', task: './work.js', input: 1 },
 *   { id: 'b', durationMs: 50 },            // the built-in simulate stream
 * ]);
 * ```
 */
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import { InvalidArgumentError, InvalidStateError, StreamError } from '../shared/errors.js';
import { integerIn, nonNegativeFinite, optionsObject, positiveFinite, positiveInteger } from '../shared/validate.js';
import { DirectoryIsolation } from '../fs/directory-isolation.js';
import { FileLockManager, type FileLockManagerOptions } from '../fs/file-lock-manager.js';
import type { Guardian } from '../protocols/heartbeat.js';
import { ImmutableStateManager, type ImmutableStateOptions } from '../protocols/immutable-state.js';
import { ResourceNegotiationProtocol } from '../protocols/resource-negotiation.js';
import type { ResourceAmounts } from '../sync/resource-pool.js';
import { createStreamPool } from './pool.js';
import { isServicesRequest } from './services.js';
import { Tracer, type TraceDocument } from './tracer.js';
import { StreamRegistry } from './registry.js';
import { Run, type RestartBudget, type RunStats, type Supervision } from './run.js';
import type { CheckpointRecord, ConvergenceOptions, ConvergenceType, ExecuteOptions, StreamResult, StreamSpec } from './types.js';
import { checkSpecs, convergenceType, intervalMs, runSignal } from './validate.js';

/** Options of a {@link StreamCoordinator}. */
export interface CoordinatorOptions {
  /** Most worker threads. Default: the machine's available parallelism. */
  readonly maxThreads?: number;
  /** Threads kept ready. Default: maxThreads (CPU-bound runs want them warm). */
  readonly minThreads?: number;
  /** How long a thread above minThreads may idle. Default 30,000. */
  readonly idleTimeoutMs?: number;
  /** Enables heartbeat supervision: a running stream silent for this long is stuck. */
  readonly heartbeatTimeoutMs?: number;
  /** How often heartbeats are checked. Default: a quarter of heartbeatTimeoutMs, at most 1000. */
  readonly heartbeatCheckIntervalMs?: number;
  /** Decides what happens to a stuck stream. Default: restart it (within the budget). */
  readonly guardian?: Guardian;
  /** Restarts allowed per stream. Default: 3 within 60,000 ms. */
  readonly restartBudget?: RestartBudget;
  /** How long cancelled running streams get to stop on their own before termination. Default 250. */
  readonly cancelGraceMs?: number;
  /** Options of the shared state (`coordinator.state`, `ctx.state`). */
  readonly state?: ImmutableStateOptions<Record<string, unknown>>;
  /** Capacity of a resource pool streams negotiate over (`coordinator.resources`, `ctx.resources`). */
  readonly resources?: ResourceAmounts;
  /** Options of the file locks (`coordinator.fileLocks`, `ctx.fileLocks`). */
  readonly fileLocks?: FileLockManagerOptions;
  /** Gives every stream attempt its own directory (`ctx.directory`); `{ root }` picks where. */
  readonly isolation?: boolean | { readonly root?: string };
  /** Records a Chrome trace of every run (`coordinator.traceDocument()`). Default false. */
  readonly trace?: boolean;
}

const DEFAULT_INTERVAL_MS = 1000;

/** Runs streams on worker threads and converges their results. */
export class StreamCoordinator implements AsyncDisposable {
  /** The streams of the current or last run, with live state. */
  readonly registry = new StreamRegistry();
  /** Versioned shared state, the same memory streams see as `ctx.state`. */
  readonly state: ImmutableStateManager<Record<string, unknown>>;
  /** The resource pool streams negotiate over (`ctx.resources`), if configured. Grants die with their stream. */
  readonly resources: ResourceNegotiationProtocol | undefined;
  /** File locks shared with every stream's `ctx.fileLocks` and with other processes. */
  readonly fileLocks: FileLockManager;
  /** Per-stream directories (`ctx.directory`), when isolation is on; merge them after a run. */
  readonly isolation: DirectoryIsolation | undefined;
  #pool: Piscina;
  #convergence: { type: ConvergenceType; intervalMs: number; callback: ((event: never) => void) | undefined } = {
    type: 'barrier',
    intervalMs: DEFAULT_INTERVAL_MS,
    callback: undefined,
  };
  readonly #supervision: Supervision | undefined;
  readonly #cancelGraceMs: number;
  #run: Run | undefined;
  #convergenceTime = 0;
  #lastStats: RunStats = { recoveryAttempts: 0 };
  #closed = false;
  readonly #tracer: Tracer | undefined;
  readonly #maxThreads: number;

  constructor(options?: CoordinatorOptions) {
    const o = optionsObject('options', options);
    const maxThreads = o.maxThreads === undefined ? availableParallelism() : positiveInteger('options.maxThreads', o.maxThreads, 1024);
    const minThreads = o.minThreads === undefined ? maxThreads : integerIn('options.minThreads', o.minThreads, 0, maxThreads);
    const idleTimeoutMs = o.idleTimeoutMs === undefined ? 30_000 : nonNegativeFinite('options.idleTimeoutMs', o.idleTimeoutMs);
    this.#cancelGraceMs = o.cancelGraceMs === undefined ? 250 : nonNegativeFinite('options.cancelGraceMs', o.cancelGraceMs);
    this.#supervision = supervision(o);
    this.state = new ImmutableStateManager(o.state);
    this.resources = o.resources === undefined ? undefined : new ResourceNegotiationProtocol(o.resources);
    this.fileLocks = new FileLockManager(o.fileLocks);
    this.isolation = isolation(o.isolation);
    this.#tracer = o.trace === true ? new Tracer() : undefined;
    this.#maxThreads = maxThreads;
    this.#pool = createStreamPool({ maxThreads, minThreads, idleTimeoutMs });
    this.#pool.on('message', (message: unknown) => {
      if (isServicesRequest(message)) {
        if (this.#run === undefined) message.port.close();
        else this.#run.serve(message);
      }
    });
  }

  /** Milliseconds from the start of the last run to its convergence (its last stream settling). */
  get convergenceTime(): number {
    return this.#convergenceTime;
  }

  /** Figures of the last run (guardian restarts). */
  get lastRunStats(): Readonly<RunStats> {
    return this.#lastStats;
  }

  /**
   * The Chrome trace-event document of every run so far (open it in Perfetto or
   * chrome://tracing): a track per thread with stream attempts, lock, barrier and checkpoint
   * waits, heartbeats, checkpoints and recoveries.
   * @throws InvalidStateError unless the coordinator was created with `trace: true`.
   */
  traceDocument(): TraceDocument {
    if (this.#tracer === undefined) throw new InvalidStateError('create the coordinator with { trace: true } to record a trace');
    return this.#tracer.document();
  }

  /**
   * Starts every thread and loads the stream runtime in each, so the next run's timings (and
   * convergence) do not include thread start-up. It is a run of its own: it replaces the
   * registry's contents and `convergenceTime`.
   */
  async warmUp(): Promise<void> {
    const task = new URL('./warm-up.js', import.meta.url);
    const specs = Array.from({ length: this.#maxThreads }, (_, i) => ({ id: `warm-up-${i}`, task }));
    const results = await this.#start(specs, { convergenceType: 'barrier' }, undefined, true).done;
    const failed = results.find((r) => r.status !== 'complete');
    if (failed !== undefined) throw new StreamError(`warm-up failed: ${failed.error?.message ?? failed.status}`);
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
   * Runs `streams` in parallel and resolves with one result per stream, in input order, once
   * all have settled. Rejects only for bad input (InvalidArgumentError) or a closed or busy coordinator.
   */
  async executeParallel(streams: readonly StreamSpec[], options?: ExecuteOptions): Promise<StreamResult[]> {
    return this.#start(streams, options, undefined).done;
  }

  /**
   * Runs `streams` and yields each result as its stream settles. Leaving the loop early
   * (`break`, `return`, a throw) cancels the streams still running.
   */
  async *stream(streams: readonly StreamSpec[], options?: ExecuteOptions): AsyncGenerator<StreamResult, void, undefined> {
    const ready: StreamResult[] = [];
    let wake: (() => void) | undefined;
    const run = this.#start(streams, { ...options, convergenceType: 'progressive' }, (r) => {
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

  /** Stops the pool; waits for running tasks (terminating them after the grace). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const run = this.#run;
    run?.cancel(new Error('coordinator closed'));
    // Streams of a run without per-task signals can only be stopped by ending their threads.
    const destroyed = run !== undefined && !run.abortable ? this.#pool.destroy() : undefined;
    await run?.done;
    await (destroyed ?? this.#pool.destroy());
    await this.fileLocks.close();
  }

  /** `await using coordinator = new StreamCoordinator()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #start(streams: readonly StreamSpec[], options: ExecuteOptions | undefined, sink: ((r: StreamResult) => void) | undefined, warmUp = false): Run {
    if (this.#closed) throw new InvalidStateError('this StreamCoordinator is closed; create a new one');
    if (this.#run !== undefined) {
      throw new InvalidStateError('a run is already in progress on this coordinator; await it or use another coordinator');
    }
    const o = optionsObject('options', options);
    const specs = checkSpecs(streams);
    const type = o.convergenceType === undefined ? this.#convergence.type : convergenceType('options.convergenceType', o.convergenceType);
    const signal = runSignal(o.signal);
    // A warm-up is not the caller's run: its callbacks do not hear of it.
    const callback = warmUp ? undefined : (this.#convergence.callback as ((event: unknown) => void) | undefined);
    const startedAt = Date.now();
    const run = new Run(specs, {
      pool: this.#pool,
      registry: this.registry,
      convergence: type,
      intervalMs: this.#convergence.intervalMs,
      cancelGraceMs: this.#cancelGraceMs,
      signal,
      supervision: this.#supervision,
      onResult: (r) => {
        sink?.(r);
        if (type === 'progressive') callback?.(r);
      },
      onCheckpoint: (record: CheckpointRecord) => {
        this.#tracer?.instant('checkpoint', `checkpoint ${record.epoch}`, { lagging: record.lagging });
        callback?.(record);
      },
      // A stream's grants end with its attempt, however it ended.
      onAttemptEnd: (id) => void this.resources?.releaseResources(id),
      shared: { state: this.state.handle, resources: this.resources?.handle, fileLocks: this.fileLocks.handle },
      processLocks: this.fileLocks.processLocks,
      // Warm-up streams write nothing: they get no directory, so later merges never see them.
      allocateDirectory: (id) => (warmUp ? undefined : this.isolation?.allocateStreamDirectory(id)),
      tracer: this.#tracer,
      abortable: signal !== undefined || this.#supervision !== undefined || sink !== undefined,
    });
    this.#run = run;
    void run.start().then((results) => {
      this.#convergenceTime = Date.now() - startedAt;
      this.#lastStats = { ...run.stats };
      this.#run = undefined;
      if (type === 'barrier') callback?.(results);
    });
    return run;
  }
}

function isolation(option: CoordinatorOptions['isolation']): DirectoryIsolation | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return new DirectoryIsolation();
  if (typeof option !== 'object' || option === null) throw new InvalidArgumentError('options.isolation must be a boolean or { root }');
  return new DirectoryIsolation(option);
}

function supervision(o: Partial<CoordinatorOptions>): Supervision | undefined {
  if (o.heartbeatTimeoutMs === undefined) return undefined;
  const timeoutMs = positiveFinite('options.heartbeatTimeoutMs', o.heartbeatTimeoutMs);
  if (o.guardian !== undefined && typeof o.guardian !== 'function') throw new InvalidArgumentError('options.guardian must be a function');
  const budget = o.restartBudget ?? { maxRestarts: 3, withinMs: 60_000 };
  integerIn('options.restartBudget.maxRestarts', budget.maxRestarts, 0, 1_000_000);
  positiveFinite('options.restartBudget.withinMs', budget.withinMs);
  return {
    timeoutMs,
    checkIntervalMs: o.heartbeatCheckIntervalMs === undefined ? undefined : positiveFinite('options.heartbeatCheckIntervalMs', o.heartbeatCheckIntervalMs),
    guardian: o.guardian ?? (() => ({ action: 'restart' })),
    budget,
  };
}
