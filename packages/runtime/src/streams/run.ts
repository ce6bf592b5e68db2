/**
 * One `executeParallel` call: dispatches every stream to the Piscina pool, watches heartbeats,
 * drives checkpoints, acts on guardian decisions, and settles each stream exactly once.
 *
 * Failure model: a stream that throws fails alone; a failed or cancelled stream breaks the
 * run's barrier (waiters get BrokenBarrierError instead of hanging); a stream that completes
 * deregisters from it, so the others can still meet. A cancelled run stops queued streams at
 * once and running ones cooperatively (their ctx.signal aborts, their next checkpoint throws),
 * then terminates whatever still runs after `cancelGraceMs`. Locks held by a terminated worker
 * are recovered as owner-died when its thread exits (see the coordinator's worker watch).
 */
import type { MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { now } from '../shared/clock.js';
import { AbortedError, StreamError } from '../shared/errors.js';
import { HeartbeatProtocol, type Guardian, type GuardianDecision } from '../protocols/heartbeat.js';
import type { ProcessLocks } from '../fs/process-locks.js';
import { CheckpointDriver, releaseAll } from './checkpoints.js';
import { ATTEMPT, CANCEL, CP_SEEN, HEARTBEAT, PROGRESS, QUEUED, RUNNING, RunMemory, SETTLED, STARTED, STATE, THREAD } from './layout.js';
import type { Tracer } from './tracer.js';
import type { StreamRegistry } from './registry.js';
import { addressOf, serve, type ServicesRequest } from './services.js';
import { errorInfo, type SharedHandles, type StreamOutcome, type StreamTask } from './task.js';
import type { CheckpointRecord, ConvergenceType, StreamErrorInfo, StreamResult, StreamStatus } from './types.js';
import type { CheckedSpec } from './validate.js';

/** At most `maxRestarts` restarts of one stream within `withinMs` (Erlang/OTP's intensity/period). */
export interface RestartBudget {
  readonly maxRestarts: number;
  readonly withinMs: number;
}

/** Heartbeat supervision of a run. */
export interface Supervision {
  readonly timeoutMs: number;
  readonly checkIntervalMs: number | undefined;
  readonly guardian: Guardian;
  readonly budget: RestartBudget;
}

/** Everything a run needs from its coordinator. */
export interface RunOptions {
  readonly pool: Piscina;
  readonly registry: StreamRegistry;
  readonly convergence: ConvergenceType;
  readonly intervalMs: number;
  readonly cancelGraceMs: number;
  readonly signal: AbortSignal | undefined;
  readonly supervision: Supervision | undefined;
  readonly onResult: (result: StreamResult) => void;
  readonly onCheckpoint: (record: CheckpointRecord) => void;
  /** Told when an attempt ends for good or is replaced, to reclaim what the stream held. */
  readonly onAttemptEnd: (id: string) => void;
  /** Coordinator-wide services handed to every stream. */
  readonly shared: SharedHandles;
  /** The process-level file locks workers take through their services channel. */
  readonly processLocks: ProcessLocks;
  /** A fresh isolated directory for an attempt of stream `id`, or undefined when isolation is off. */
  readonly allocateDirectory: (id: string) => string | undefined;
  /** Collects a trace of the run, when tracing is on. */
  readonly tracer: Tracer | undefined;
  /**
   * Whether single streams may have to be stopped (a run signal, supervision, an iterator that
   * can be left early). Only then does each task carry an AbortSignal: Piscina's abortable path
   * costs ~7 us per task. Without it, cancellation is cooperative, and the coordinator's close()
   * terminates the threads.
   */
  readonly abortable: boolean;
}

interface Stream {
  readonly spec: CheckedSpec;
  readonly index: number;
  attempt: number;
  controller: AbortController;
  settled: boolean;
  cancelReason: StreamErrorInfo | undefined;
  details: unknown;
  queuedAt: number;
  startedAt: number | undefined;
  restarts: number[];
}

/** Run-wide figures the agent facade reports. */
export interface RunStats {
  /** Guardian restarts performed. */
  recoveryAttempts: number;
}

let nextRunId = 1;

/** One run of streams on the pool. */
export class Run {
  /** Distinguishes this run's services requests from a previous run's late ones. */
  readonly id = nextRunId++;
  readonly memory: RunMemory;
  readonly #ports = new Set<MessagePort>();
  readonly stats: RunStats = { recoveryAttempts: 0 };
  readonly #options: RunOptions;

  /** Whether its streams carry abort signals (see {@link RunOptions.abortable}). */
  get abortable(): boolean {
    return this.#options.abortable;
  }
  readonly #streams: Stream[];
  readonly #results: (StreamResult | undefined)[];
  #pending: number;
  #checkpoints: CheckpointDriver | undefined;
  #heartbeats: HeartbeatProtocol | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #resolve!: (results: StreamResult[]) => void;
  readonly done: Promise<StreamResult[]>;

  constructor(specs: readonly CheckedSpec[], options: RunOptions) {
    this.#options = options;
    const startedAt = now();
    this.memory = RunMemory.create(specs.length, startedAt, options.convergence === 'checkpoint' ? options.intervalMs : 0);
    this.#streams = specs.map((spec, index) => ({
      spec,
      index,
      attempt: 1,
      controller: new AbortController(),
      settled: false,
      cancelReason: undefined,
      details: undefined,
      queuedAt: startedAt,
      startedAt: undefined,
      restarts: [],
    }));
    this.#results = specs.map(() => undefined);
    this.#pending = specs.length;
    this.done = new Promise((resolve) => {
      this.#resolve = resolve;
    });
    options.registry.begin(
      specs.map((s) => s.id),
      this.memory,
    );
  }

  /** Dispatches every stream and starts supervision; resolves `done` when all settled. */
  start(): Promise<StreamResult[]> {
    const { signal, supervision } = this.#options;
    if (supervision !== undefined) {
      this.#heartbeats = new HeartbeatProtocol({
        timeoutMs: supervision.timeoutMs,
        ...(supervision.checkIntervalMs === undefined ? {} : { checkIntervalMs: supervision.checkIntervalMs }),
        guardian: supervision.guardian,
        onDecision: (id, decision) => this.#decide(id, decision),
      });
    }
    for (const s of this.#streams) this.#dispatch(s);
    if (this.#options.convergence === 'checkpoint') {
      this.#checkpoints = new CheckpointDriver(
        { memory: this.memory, ids: this.#streams.map((s) => s.spec.id), running: () => this.#running() },
        this.#options.intervalMs,
        this.#options.onCheckpoint,
      );
    }
    if (signal !== undefined) {
      if (signal.aborted) this.cancel(signal.reason);
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    return this.done;
  }

  /** Cancels every unsettled stream (queued ones at once, running ones after the grace). */
  cancel(reason?: unknown): void {
    const info = errorInfo(new AbortedError('the run was cancelled', { cause: reason }));
    for (const s of this.#streams) if (!s.settled) this.#cancelStream(s, info, false);
    // Streams parked at the barrier or a checkpoint must not wait for the ones cancelled.
    this.memory.barrier.break();
    releaseAll(this.memory);
    this.#graceTimer ??= setTimeout(() => {
      for (const s of this.#streams) if (!s.settled) s.controller.abort(reason);
    }, this.#options.cancelGraceMs);
  }

  readonly #onAbort = (): void => this.cancel(this.#options.signal?.reason);

  #running(): number[] {
    return this.#streams.filter((s) => !s.settled && this.memory.get(s.index, STATE) === RUNNING).map((s) => s.index);
  }

  #dispatch(s: Stream): void {
    const { pool, registry } = this.#options;
    const { index, attempt } = s;
    const memory = this.memory;
    memory.set(index, STATE, QUEUED);
    memory.set(index, ATTEMPT, attempt);
    memory.set(index, HEARTBEAT, 0);
    memory.set(index, STARTED, 0);
    memory.set(index, PROGRESS, 0);
    memory.set(index, CP_SEEN, 0);
    memory.set(index, CANCEL, s.cancelReason === undefined ? 0 : 1);
    registry.update(s.spec.id, { state: 'queued', attempt });
    const task: StreamTask = {
      run: memory.handles,
      index,
      id: s.spec.id,
      attempt,
      task: s.spec.href,
      exportName: s.spec.exportName,
      input: s.spec.input,
      durationMs: s.spec.durationMs,
      resume: s.details,
      runId: this.id,
      shared: this.#options.shared,
      directory: this.#options.allocateDirectory(s.spec.id),
      trace: this.#options.tracer !== undefined,
      // Parked streams beat three times per timeout: waiting at a barrier or lock is not stuck.
      parkBeatMs: this.#options.supervision === undefined ? undefined : this.#options.supervision.timeoutMs / 3,
    };
    this.#heartbeats?.watch(
      s.spec.id,
      () => (memory.get(index, STATE) === RUNNING ? (memory.lastHeartbeat(index) ?? memory.startedAt(index)) : undefined),
      () => s.details,
    );
    pool
      .run(task, this.#options.abortable ? { signal: s.controller.signal } : undefined)
      .then(
        (outcome: StreamOutcome) => this.#finish(s, attempt, outcome),
        (error: unknown) => this.#finish(s, attempt, { ok: false, error: errorInfo(error) }),
      );
  }

  /** Serves a stream attempt's services channel (it asked through the pool). */
  serve(request: ServicesRequest): void {
    const { run, index, attempt } = addressOf(request);
    const s = this.#streams[index];
    if (run !== this.id || s === undefined || s.attempt !== attempt || s.settled) {
      request.port.close();
      return;
    }
    this.#ports.add(request.port);
    const { processLocks } = this.#options;
    serve(
      {
        recordDetails: (details) => void (s.attempt === attempt && (s.details = details)),
        acquireProcessLock: (path, holder, timeoutMs) => processLocks.acquire(path, holder, timeoutMs),
        releaseProcessLock: (path, holder) => processLocks.release(path, holder),
      },
      request.port,
    );
  }

  #finish(s: Stream, attempt: number, outcome: StreamOutcome): void {
    this.#traceAttempt(s, attempt, outcome);
    // An attempt replaced by a restart reports into the void.
    if (s.settled || attempt !== s.attempt) return;
    s.startedAt ??= this.memory.startedAt(s.index);
    let status: StreamStatus;
    if (s.cancelReason !== undefined) status = 'cancelled';
    else status = outcome.ok ? 'complete' : 'failed';
    const error = status === 'cancelled' ? s.cancelReason : outcome.ok ? undefined : outcome.error;
    this.#settle(s, status, outcome.ok && status === 'complete' ? outcome.value : undefined, error);
  }

  #settle(s: Stream, status: StreamStatus, value: unknown, error: StreamErrorInfo | undefined): void {
    s.settled = true;
    this.memory.set(s.index, STATE, SETTLED);
    this.#heartbeats?.unwatch(s.spec.id);
    this.#options.onAttemptEnd(s.spec.id);
    const completedAt = now();
    const result: StreamResult = {
      id: s.spec.id,
      status,
      ...(status === 'complete' ? { value } : {}),
      ...(error === undefined ? {} : { error }),
      startedAt: s.startedAt ?? s.queuedAt,
      completedAt,
      attempts: s.attempt,
    };
    this.#options.registry.update(s.spec.id, {
      state: status === 'complete' ? 'completed' : status,
      startedAt: result.startedAt,
      completedAt,
    });
    this.#results[s.index] = result;
    this.#pending--;
    if (status === 'complete') {
      if (this.#pending > 0) this.memory.barrier.deregister();
    } else {
      this.memory.barrier.break();
    }
    this.#options.onResult(result);
    if (this.#pending === 0) void this.#end();
  }

  async #end(): Promise<void> {
    clearTimeout(this.#graceTimer);
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#heartbeats?.close();
    await this.#checkpoints?.stop();
    releaseAll(this.memory);
    for (const port of this.#ports) port.close();
    this.#resolve(this.#results as StreamResult[]);
  }

  #traceAttempt(s: Stream, attempt: number, outcome: StreamOutcome): void {
    const tracer = this.#options.tracer;
    if (tracer === undefined) return;
    if (outcome.trace !== undefined) tracer.add(outcome.trace);
    const started = attempt === s.attempt ? this.memory.startedAt(s.index) : undefined;
    if (started !== undefined) {
      const status = outcome.ok ? 'complete' : outcome.error.name;
      tracer.span('stream', `${s.spec.id} #${attempt}`, this.memory.get(s.index, THREAD), started * 1000, { status });
    }
  }

  /** Cancels one stream: cooperative first; at once when `now` or when it has not started. */
  #cancelStream(s: Stream, info: StreamErrorInfo, immediately: boolean): void {
    s.cancelReason ??= info;
    this.memory.set(s.index, CANCEL, 1);
    if (immediately || this.memory.get(s.index, STATE) === QUEUED) s.controller.abort(info);
  }

  #decide(id: string, decision: GuardianDecision): void {
    const s = this.#streams.find((x) => x.spec.id === id);
    if (s === undefined || s.settled) return;
    if (decision.action === 'cancel') {
      this.#cancelStream(s, errorInfo(new AbortedError(`stream ${id} was cancelled by the guardian after missing its heartbeat`)), true);
    } else if (decision.action === 'restart') {
      this.#restart(s);
    }
  }

  #restart(s: Stream): void {
    const budget = this.#options.supervision!.budget;
    const t = now();
    s.restarts = s.restarts.filter((at) => t - at < budget.withinMs);
    const old = s.controller;
    if (s.restarts.length >= budget.maxRestarts) {
      old.abort();
      const error = new StreamError(
        `stream ${s.spec.id} stopped beating again after ${s.restarts.length} restart(s) within ${budget.withinMs} ms: restart budget spent`,
      );
      this.#settle(s, 'failed', undefined, errorInfo(error));
      return;
    }
    s.restarts.push(t);
    this.stats.recoveryAttempts++;
    this.#options.tracer?.instant('recovery', `restart ${s.spec.id}`, { attempt: s.attempt + 1 }, this.memory.get(s.index, THREAD));
    const stuckSince = this.memory.startedAt(s.index);
    if (stuckSince !== undefined) {
      this.#options.tracer?.span('stream', `${s.spec.id} #${s.attempt} (stuck)`, this.memory.get(s.index, THREAD), stuckSince * 1000);
    }
    s.startedAt ??= this.memory.startedAt(s.index);
    // Terminates the stuck worker; its old attempt's outcome is ignored from here on.
    s.attempt++;
    s.controller = new AbortController();
    old.abort();
    // The restarted attempt starts over, so barrier rounds can no longer line up.
    this.memory.barrier.break();
    this.#options.onAttemptEnd(s.spec.id);
    this.#options.registry.update(s.spec.id, { state: 'recovered', attempt: s.attempt });
    this.#dispatch(s);
  }
}
