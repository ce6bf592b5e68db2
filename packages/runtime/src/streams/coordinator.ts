/**
 * StreamCoordinator: runs streams (CPU-bound functions) in parallel on Piscina worker threads
 * and converges their results as asked: `barrier` (all at once), `progressive` (each as it
 * settles) or `checkpoint` (periodic aligned checkpoints with each stream's progress).
 *
 * Several runs may share one coordinator at once (a server handling requests): each has its
 * own barrier, checkpoints, results and cancellation, and their queued streams share the
 * threads in submission order. The pool is started at construction, so the first run does not
 * pay for thread start-up. `maxThreads` bounds the streams that run; a stream parked in a
 * Tributary wait gives its core to a queued one (see `scheduler.ts`).
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
import type { ResourceLimits } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { InvalidArgumentError, InvalidStateError, StreamError, TimeoutError } from '../shared/errors.js';
import { integerIn, nonNegativeFinite, optionsObject, positiveFinite, positiveInteger } from '../shared/validate.js';
import { DirectoryIsolation } from '../fs/directory-isolation.js';
import { FileLockManager, type FileLockManagerOptions } from '../fs/file-lock-manager.js';
import type { Guardian } from '../protocols/heartbeat.js';
import { ImmutableStateManager, type ImmutableStateOptions } from '../protocols/immutable-state.js';
import { ResourceNegotiationProtocol } from '../protocols/resource-negotiation.js';
import type { ResourceAmounts } from '../sync/resource-pool.js';
import { boundedStream, specSource } from './bounded-stream.js';
import type { ConvergenceType } from './convergence/index.js';
import { RunMemoryPool } from './memory-pool.js';
import { AttemptTimes, type CoordinatorMetrics } from './metrics.js';
import { createStreamPool } from './pool.js';
import { execArgv, resourceLimits, threadEnv } from './pool-options.js';
import { StreamRegistry, type StreamRegistryView } from './registry.js';
import { ResidentLanes } from './residents.js';
import { Run, type RunStats } from './run.js';
import type { RunRuntime } from './run-settings.js';
import { Scheduler } from './scheduler.js';
import { isRetiredOutcome, retiredAddress } from './retire.js';
import { addressOf, isServicesRequest } from './services.js';
import { supervisionOptions, type RestartBudget, type Supervision } from './supervisor.js';
import { rebuildError } from './task.js';
import { Tracer, type TraceDocument } from './tracer.js';
import type { ConvergenceOptions, ExecuteOptions, StreamOptions, StreamResult, StreamSpec } from './types.js';
import { checkSpecs, convergenceType, intervalMs, runSignal } from './validate.js';

/** Options of a {@link StreamCoordinator}. */
export interface CoordinatorOptions {
  /** Most streams running (not parked) at once. Default: the machine's available parallelism. */
  readonly maxThreads?: number;
  /**
   * Extra threads started for queued streams while running ones are parked in a Tributary
   * wait (compensation), so streams that wait on each other never deadlock a fixed pool. Each
   * is a real thread (a few MB of memory), reaped after `idleTimeoutMs` idle. Default 256
   * (Java's ForkJoinPool caps its spares at 256 too); 0 turns compensation off.
   */
  readonly maxSpareThreads?: number;
  /** Threads kept ready. Default: maxThreads (CPU-bound runs want them warm). */
  readonly minThreads?: number;
  /** How long a thread above minThreads may idle. Default 30,000. */
  readonly idleTimeoutMs?: number;
  /** Enables heartbeat supervision: a running stream silent for this long is stuck. Default: no supervision. */
  readonly heartbeatTimeoutMs?: number;
  /** How often heartbeats are checked. Default: a quarter of heartbeatTimeoutMs, at most 1000. */
  readonly heartbeatCheckIntervalMs?: number;
  /** Decides what happens to a stuck stream. Default: restart it (within the budget). */
  readonly guardian?: Guardian;
  /** Restarts allowed per stream. Default: 3 within 60,000 ms. */
  readonly restartBudget?: RestartBudget;
  /** How long cancelled running streams get to stop on their own before termination. Default 250. */
  readonly cancelGraceMs?: number;
  /** Options of the shared state (`coordinator.state`, `ctx.state`). Default: `ImmutableStateManager`'s defaults. */
  readonly state?: ImmutableStateOptions<Record<string, unknown>>;
  /** Capacity of a resource pool streams negotiate over (`coordinator.resources`, `ctx.resources`). Default: no pool. */
  readonly resources?: ResourceAmounts;
  /** Options of the file locks (`coordinator.fileLocks`, `ctx.fileLocks`). Default: `FileLockManager`'s defaults. */
  readonly fileLocks?: FileLockManagerOptions;
  /** Gives every stream attempt its own directory (`ctx.directory`); `{ root }` picks where. Default false. */
  readonly isolation?: boolean | { readonly root?: string };
  /**
   * Recycles a thread after it has run this many stream attempts (a stream that leaks memory or
   * global state cannot pile it up). Default: threads are never recycled.
   */
  readonly maxStreamsPerThread?: number;
  /** Node's heap and stack limits for each stream thread (`maxOldGenerationSizeMb`, ...). Default: Node's. */
  readonly resourceLimits?: ResourceLimits;
  /** The environment stream threads see (`process.env` there). Default: a copy of this process's. */
  readonly env?: Readonly<Record<string, string>>;
  /** Node flags for the stream threads. Default: this process's `execArgv`. */
  readonly execArgv?: readonly string[];
  /** Records a Chrome trace of every run (`coordinator.traceDocument()`). Default false. */
  readonly trace?: boolean;
}

const DEFAULT_INTERVAL_MS = 1000;
const DEFAULT_MAX_SPARE_THREADS = 256;
/** In flight at once when stream() pulls from an iterable and no maxInFlight is given. */
const DEFAULT_MAX_IN_FLIGHT = 1024;

/** Runs streams on worker threads and converges their results. */
export class StreamCoordinator implements AsyncDisposable {
  /** The streams of the runs in progress and of the last one finished, with live state. */
  readonly registry: StreamRegistryView;
  readonly #registry = new StreamRegistry();
  /** Versioned shared state, the same memory streams see as `ctx.state`. */
  readonly state: ImmutableStateManager<Record<string, unknown>>;
  /** The resource pool streams negotiate over (`ctx.resources`), if configured. Grants die with their stream. */
  readonly resources: ResourceNegotiationProtocol | undefined;
  /** File locks shared with every stream's `ctx.fileLocks` and with other processes. */
  readonly fileLocks: FileLockManager;
  /** Per-stream directories (`ctx.directory`), when isolation is on; merge them after a run. */
  readonly isolation: DirectoryIsolation | undefined;
  readonly #pool: Piscina;
  readonly #residents: ResidentLanes;
  readonly #scheduler: Scheduler;
  #convergence: { type: ConvergenceType; intervalMs: number; callback: ((event: never) => unknown) | undefined } = {
    type: 'barrier',
    intervalMs: DEFAULT_INTERVAL_MS,
    callback: undefined,
  };
  readonly #supervision: Supervision | undefined;
  readonly #cancelGraceMs: number;
  readonly #runs = new Map<number, Run>();
  #convergenceTime = 0;
  #lastStats: RunStats = { recoveryAttempts: 0, lanes: 0 };
  #closed = false;
  readonly #tracer: Tracer | undefined;
  readonly #maxThreads: number;
  readonly #maxSpareThreads: number;
  readonly #retireAfter: number | undefined;
  readonly #attemptTimes = new AttemptTimes();
  readonly #memoryPool = new RunMemoryPool();

  constructor(options?: CoordinatorOptions) {
    const o = optionsObject('options', options);
    const maxThreads = o.maxThreads === undefined ? availableParallelism() : positiveInteger('options.maxThreads', o.maxThreads, 1024);
    const minThreads = o.minThreads === undefined ? maxThreads : integerIn('options.minThreads', o.minThreads, 0, maxThreads);
    const maxSpareThreads = o.maxSpareThreads === undefined ? DEFAULT_MAX_SPARE_THREADS : integerIn('options.maxSpareThreads', o.maxSpareThreads, 0, 4096);
    const idleTimeoutMs = o.idleTimeoutMs === undefined ? 30_000 : nonNegativeFinite('options.idleTimeoutMs', o.idleTimeoutMs);
    this.#cancelGraceMs = o.cancelGraceMs === undefined ? 250 : nonNegativeFinite('options.cancelGraceMs', o.cancelGraceMs);
    this.#supervision = supervisionOptions(o);
    this.state = new ImmutableStateManager(o.state);
    this.resources = o.resources === undefined ? undefined : new ResourceNegotiationProtocol(o.resources);
    this.fileLocks = new FileLockManager(o.fileLocks);
    this.isolation = isolation(o.isolation);
    this.#tracer = o.trace === true ? new Tracer() : undefined;
    this.#retireAfter = o.maxStreamsPerThread === undefined ? undefined : positiveInteger('options.maxStreamsPerThread', o.maxStreamsPerThread);
    this.#maxThreads = maxThreads;
    this.#maxSpareThreads = maxSpareThreads;
    this.registry = this.#registry;
    // Piscina may start the spares; the scheduler decides when (Piscina's own queue stays empty).
    this.#pool = createStreamPool({
      maxThreads: maxThreads + maxSpareThreads,
      minThreads,
      idleTimeoutMs,
      resourceLimits: resourceLimits(o.resourceLimits),
      env: threadEnv(o.env),
      execArgv: execArgv(o.execArgv),
      workerData: {
        shared: { state: this.state.handle, resources: this.resources?.handle, fileLocks: this.fileLocks.handle, runSlab: this.#memoryPool.slab },
      },
      threads: { started: (id) => this.#memoryPool.threadStarted(id), exited: (id) => this.#memoryPool.threadExited(id) },
    });
    this.#residents = new ResidentLanes(this.#pool);
    this.#scheduler = new Scheduler({ maxThreads, maxSpareThreads });
    this.#pool.on('message', (message: unknown) => {
      if (isRetiredOutcome(message)) {
        const address = retiredAddress(message);
        this.#runs.get(address.run)?.retired(address, message.outcome);
        return;
      }
      if (!isServicesRequest(message)) return;
      const run = this.#runs.get(addressOf(message).run);
      if (run === undefined) message.port.close();
      else run.serve(message);
    });
  }

  /** Milliseconds from the start of the last run to its convergence (its last stream settling). */
  get convergenceTime(): number {
    return this.#convergenceTime;
  }

  /** A snapshot of the pool: threads, attempts running and queued, run and wait times, utilization. */
  metrics(): CoordinatorMetrics {
    let running = 0;
    let queued = 0;
    for (const run of this.#runs.values()) {
      const census = run.census();
      running += census.running;
      queued += census.queued;
    }
    const times = this.#attemptTimes;
    return {
      threads: this.#pool.threads.length,
      running,
      queued,
      completed: times.completed,
      utilization: this.#pool.utilization,
      runTime: times.runTime(),
      waitTime: times.waitTime(),
    };
  }

  /** Figures of the last run: guardian restarts, and the lanes that carried its streams. */
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
    const results = await this.#start(specs, { convergenceType: 'barrier' }, undefined, true).start();
    const failed = results.find((r) => r.status !== 'complete');
    if (failed !== undefined) throw new StreamError(`warm-up failed: ${failed.error?.message ?? failed.status}`);
  }

  /** Sets the convergence used by later runs that do not name one. */
  configureConvergence(options: ConvergenceOptions): void {
    const o = optionsObject<{ type?: unknown; intervalMs?: unknown; callback?: unknown }>('options', options);
    const type = convergenceType('options.type', o.type);
    const every = o.intervalMs === undefined ? this.#convergence.intervalMs : intervalMs(o.intervalMs);
    if (o.callback !== undefined && typeof o.callback !== 'function') throw new InvalidArgumentError('options.callback must be a function');
    this.#convergence = { type, intervalMs: every, callback: o.callback as ((event: never) => unknown) | undefined };
  }

  /**
   * Runs `streams` in parallel and resolves with one result per stream, in input order, once
   * all have settled. Rejects for bad input (InvalidArgumentError), a closed coordinator, or a
   * convergence callback that failed (CallbackError, once every stream has settled).
   */
  executeParallel(streams: readonly StreamSpec[], options?: ExecuteOptions): Promise<StreamResult[]> {
    try {
      return this.#start(streams, options, undefined).start();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * Runs one stream and resolves with what its function returned, or rejects with its error
   * (rebuilt on this thread with its name, message, stack, code and own properties), like
   * `piscina.run`. It shares the threads with every other run.
   */
  async run<T = unknown>(spec: StreamSpec, options?: Omit<ExecuteOptions, 'convergenceType'>): Promise<T> {
    const [result] = await this.#start([spec], { ...optionsObject('options', options), convergenceType: 'progressive' }, undefined, false, false).start();
    if (result!.status === 'complete') return result!.value as T;
    throw rebuildError(result!.error!);
  }

  /**
   * Runs `streams` and yields each result as its stream settles. `streams` may be an array, or
   * any iterable or async iterable of specs: then (or with `maxInFlight`) specs are pulled as
   * results are consumed, so at most `maxInFlight` streams are queued, running or unconsumed
   * (see `bounded-stream.ts`). Leaving the loop early (`break`, `return`, a throw) cancels the
   * streams still running. A failed convergence callback is thrown from the loop (CallbackError).
   */
  stream(
    streams: readonly StreamSpec[] | Iterable<StreamSpec> | AsyncIterable<StreamSpec>,
    options?: StreamOptions,
  ): AsyncGenerator<StreamResult, void, undefined> {
    const o = optionsObject('options', options);
    const source = specSource(streams);
    // An array without maxInFlight is one run (one barrier over all of it), as executeParallel's.
    const whole = Array.isArray(streams) && o.maxInFlight === undefined;
    const maxInFlight = whole
      ? Math.max(1, streams.length)
      : o.maxInFlight === undefined
        ? DEFAULT_MAX_IN_FLIGHT
        : positiveInteger('options.maxInFlight', o.maxInFlight, 1 << 24);
    return this.#streamBounded(source, maxInFlight, whole ? maxInFlight : undefined, o);
  }

  async *#streamBounded(
    source: Iterable<StreamSpec> | AsyncIterable<StreamSpec>,
    maxInFlight: number,
    batchSize: number | undefined,
    options: StreamOptions,
  ): AsyncGenerator<StreamResult, void, undefined> {
    // One budget and one signal for the whole stream, not one per batch.
    const controller = new AbortController();
    const signal = runSignal(options.signal);
    const forward = (): void => controller.abort(signal?.reason);
    if (signal?.aborted === true) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    const timeoutMs = options.timeoutMs === undefined ? undefined : positiveFinite('options.timeoutMs', options.timeoutMs);
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => controller.abort(new TimeoutError(`the stream ran past its timeoutMs (${timeoutMs} ms); raise options.timeoutMs`)), timeoutMs);
    const batchOptions: ExecuteOptions = { convergenceType: 'progressive', signal: controller.signal };
    try {
      yield* boundedStream(source, maxInFlight, (specs, sink) => {
        const run = this.#start(specs, batchOptions, sink);
        void run.start().catch(() => {});
        return run;
      }, batchSize);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forward);
    }
  }

  /** Stops the pool; waits for running tasks (terminating them after the grace). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const runs = [...this.#runs.values()];
    for (const run of runs) run.cancel(new Error('coordinator closed'));
    this.#residents.close();
    // Streams of a run without per-task signals can only be stopped by ending their threads.
    const destroyed = runs.some((run) => !run.abortable) ? this.#pool.destroy() : undefined;
    await Promise.all(runs.map((run) => run.done.catch(() => {})));
    await (destroyed ?? this.#pool.destroy());
    await this.fileLocks.close();
  }

  /** `await using coordinator = new StreamCoordinator()` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #start(
    streams: readonly StreamSpec[],
    options: ExecuteOptions | undefined,
    sink: ((r: StreamResult) => void) | undefined,
    warmUp = false,
    convergent = true,
  ): Run {
    if (this.#closed) throw new InvalidStateError('this StreamCoordinator is closed; create a new one');
    const o = optionsObject('options', options);
    const specs = checkSpecs(streams);
    const type = o.convergenceType === undefined ? this.#convergence.type : convergenceType('options.convergenceType', o.convergenceType);
    const signal = runSignal(o.signal);
    const timeoutMs = o.timeoutMs === undefined ? undefined : positiveFinite('options.timeoutMs', o.timeoutMs);
    // A warm-up or a single run() is not the caller's run: callbacks do not hear of it. A
    // callback is typed for the configured convergence type: a run of another type skips it.
    const callback = warmUp || !convergent || type !== this.#convergence.type ? undefined : this.#convergence.callback;
    const startedAt = Date.now();
    const run = new Run(specs, this.#runtime(warmUp), { type, intervalMs: this.#convergence.intervalMs, callback }, {
      cancelGraceMs: this.#cancelGraceMs,
      signal,
      timeoutMs,
      supervision: this.#supervision,
      sink,
    });
    this.#runs.set(run.id, run);
    const finished = (): void => {
      this.#convergenceTime = Date.now() - startedAt;
      this.#lastStats = { ...run.stats };
      this.#runs.delete(run.id);
    };
    run.done.then(finished, finished);
    return run;
  }

  #runtime(warmUp: boolean): RunRuntime {
    return {
      residents: this.#residents,
      scheduler: this.#scheduler,
      registry: this.#registry,
      processLocks: this.fileLocks.processLocks,
      tracer: this.#tracer,
      // Warm-up streams write nothing: they get no directory, so later merges never see them.
      directoryFor: (id) => (warmUp ? undefined : this.isolation?.allocateStreamDirectory(id)),
      retireAfter: this.#retireAfter,
      isolated: this.isolation !== undefined && !warmUp,
      maxThreads: this.#maxThreads,
      maxLanes: this.#maxThreads + this.#maxSpareThreads,
      attemptTimes: this.#attemptTimes,
      memoryPool: this.#memoryPool,
      // A stream's grants end with its attempt, however it ended.
      releaseHoldings: (id) => this.resources?.releaseResources(id),
    };
  }
}

function isolation(option: CoordinatorOptions['isolation']): DirectoryIsolation | undefined {
  if (option === undefined || option === false) return undefined;
  if (option === true) return new DirectoryIsolation();
  if (typeof option !== 'object' || option === null) throw new InvalidArgumentError('options.isolation must be a boolean or { root }');
  return new DirectoryIsolation(option);
}

