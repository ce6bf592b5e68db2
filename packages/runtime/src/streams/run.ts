/**
 * One run of streams: queues every stream with the coordinator's scheduler (one task per
 * attempt, or a few lanes that claim the streams, `lanes.ts`), settles each exactly once, and
 * ends when all have settled. Supervision (`supervisor.ts`), starting an attempt
 * (`attempt.ts`), running-time budgets (`time-budget.ts`), serving the services channel
 * (`services.ts`) and convergence (`convergence/`) are its collaborators.
 *
 * Failure model: a stream that throws fails alone; a failed or cancelled stream breaks the
 * run's barrier (waiters get BrokenBarrierError instead of hanging); a stream that completes
 * deregisters from it, so the others can still meet. A cancelled run withdraws queued streams
 * at once and cancels running ones cooperatively (their ctx.signal aborts), then terminates
 * whatever still runs after `cancelGraceMs`. A stream past its `timeoutMs` is stopped the same
 * way and fails with TimeoutError. A convergence callback that throws cancels the rest and the
 * run rejects with CallbackError. Locks held by a terminated worker are recovered as owner-died
 * when its thread exits (the pool's worker watch).
 */
import type { MessagePort } from 'node:worker_threads';
import { now } from '../shared/clock.js';
import { AbortedError, DeadlockError, StreamError } from '../shared/errors.js';
import type { GuardianDecision } from '../protocols/heartbeat.js';
import * as checkpoints from '../sync/raw/checkpoint.js';
import { startAttempt, type AttemptEnv } from './attempt.js';
import { Lanes, laneCount, type LanedRun } from './lanes.js';
import { census, newStream, stopsOneByOne, type Census, type Stream } from './run-stream.js';
import { GuardedCallback } from './convergence/callback.js';
import { createConvergence, type Convergence } from './convergence/index.js';
import { CANCEL, CANCELLED, NOT_CANCELLED, QUEUED, RUNNING, RunMemory, SETTLED, STATE, THREAD, TIMED_OUT } from './layout.js';
import { RunWriters } from './memory-pool.js';
import { LastWords } from './retire.js';
import type { RunRecords } from './registry.js';
import type { RunConvergence, RunPolicy, RunRuntime } from './run-settings.js';
import type { Job, ScheduledRun } from './scheduler.js';
import { serve, type MainServices, type ServicesAddress, type ServicesRequest } from './services.js';
import { budgetSpentMessage, Supervisor } from './supervisor.js';
import { errorInfo, reasonInfo, type StreamOutcome } from './task.js';
import { armTimeBudget, runTimeout, streamTimeout } from './time-budget.js';
import type { StreamErrorInfo, StreamResult, StreamStatus } from './types.js';
import type { CheckedSpec } from './validate.js';

/** Run-wide figures of a finished run (`coordinator.lastRunStats`). */
export interface RunStats {
  /** Guardian restarts performed. */
  recoveryAttempts: number;
  /** Pool tasks that carried the run's streams many at a time (lanes); 0 when every attempt was a task of its own. */
  lanes: number;
}

let nextRunId = 1;

/** One run of streams on the coordinator's pool. */
export class Run implements ScheduledRun, LanedRun {
  /** Numbers the coordinator's runs; addresses services requests and registry records. */
  readonly id = nextRunId++;
  readonly memory: RunMemory;
  readonly stats: RunStats = { recoveryAttempts: 0, lanes: 0 };
  readonly done: Promise<StreamResult[]>;
  readonly #runtime: RunRuntime;
  readonly #policy: RunPolicy;
  readonly #convergence: Convergence;
  readonly #callback: GuardedCallback;
  readonly #streams: Stream[];
  readonly #results: (StreamResult | undefined)[];
  readonly #records: RunRecords;
  readonly #env: AttemptEnv;
  readonly #supervisor: Supervisor | undefined;
  /** Present when the run is laned: many streams per pool task (`lanes.ts`). */
  readonly #lanes: Lanes | undefined;
  readonly #ports = new Set<MessagePort>();
  /** Work that must finish before `done` settles: resource releases, async callbacks. */
  readonly #pendingWork: Promise<unknown>[] = [];
  #pending: number;
  /** Threads that may still write to the run's memory once it ended (`memory-pool.ts`). */
  readonly #writers = new RunWriters();
  #runTimer: NodeJS.Timeout | undefined;
  #deadlock: StreamErrorInfo | undefined;
  readonly #lastWords = new LastWords();
  #resolve!: (results: StreamResult[]) => void;
  #reject!: (error: Error) => void;

  constructor(specs: readonly CheckedSpec[], runtime: RunRuntime, convergence: RunConvergence, policy: RunPolicy) {
    this.#runtime = runtime;
    this.#policy = policy;
    this.#callback = new GuardedCallback(convergence.callback, {
      pending: (work) => this.#pendingWork.push(work),
      failed: (error) => this.cancel(error),
    });
    this.#convergence = createConvergence(convergence.type, {
      intervalMs: convergence.intervalMs,
      emit: (event) => this.#callback.deliver(event),
      tracer: runtime.tracer,
    });
    const startedAt = now();
    const lanes = laneCount(specs, policy, runtime);
    const checkpointIntervalMs = this.#convergence.checkpointIntervalMs;
    this.memory = runtime.memoryPool.take({ runId: this.id, streams: specs.length, lanes, epochMs: startedAt, checkpointIntervalMs });
    this.#streams = specs.map((spec, index) => newStream(spec, index, startedAt));
    this.#results = specs.map(() => undefined);
    this.#pending = specs.length;
    this.done = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    const ids = specs.map((s) => s.id);
    // Opening forgets the finished runs' records, which read their memory live: right after the
    // memory was taken, so no record ever reads a block that serves another run.
    this.#records = runtime.registry.open(this.id, ids, this.memory);
    this.#supervisor = policy.supervision === undefined ? undefined : new Supervisor(policy.supervision, ids, this);
    this.#lanes = lanes > 0 ? new Lanes(this, specs, runtime.residents, runtime.scheduler) : undefined;
    this.#env = {
      runtime,
      // A plain single stream (`coordinator.run()`) rides a resident lane (`residents.ts`).
      resident: specs.length === 1 && !this.#stoppable && runtime.tracer === undefined && runtime.retireAfter === undefined,
      memory: this.memory,
      parkBeatMs: this.#supervisor?.parkBeatMs,
      lost: (index, attempt) => {
        // A restart recorded the attempt it replaced (`#restart`): only the current one is read here.
        if (this.#streams[index]?.attempt === attempt) this.#writers.lost(this.memory, index);
      },
    };
  }

  /**
   * Whether running streams can be terminated: a laned run's lanes always can; an unlaned run's
   * tasks carry an AbortSignal only when streams may have to be stopped (a run signal or
   * timeout, supervision, an iterator that can be left early, a stream timeout), since
   * Piscina's abortable path costs ~7 us per task. Without it, cancellation is cooperative, and
   * the coordinator's close() terminates the threads.
   */
  get abortable(): boolean {
    return this.#lanes !== undefined || this.#stoppable;
  }

  get #stoppable(): boolean {
    const p = this.#policy;
    return p.signal !== undefined || p.timeoutMs !== undefined || p.sink !== undefined || stopsOneByOne(this.#streams.map((s) => s.spec), p);
  }

  /** Queues every stream and starts the run's clocks; resolves `done` when all settled. */
  start(): Promise<StreamResult[]> {
    const { signal, timeoutMs } = this.#policy;
    if (this.#lanes === undefined) {
      const stoppable = this.#stoppable;
      for (const s of this.#streams) this.#dispatch(s, stoppable);
    } else {
      for (const s of this.#streams) this.#records.update(s.spec.id, { state: 'queued', attempt: 1 });
      this.#lanes.start();
    }
    this.#convergence.onStart({ memory: this.memory, ids: this.#streams.map((s) => s.spec.id), running: () => this.#running() });
    if (timeoutMs !== undefined) this.#runTimer = setTimeout(() => this.#expireRun(timeoutMs), timeoutMs);
    if (signal !== undefined) {
      if (signal.aborted) this.cancel(signal.reason);
      else signal.addEventListener('abort', this.#onAbort, { once: true });
    }
    return this.done;
  }

  /** Cancels every unsettled stream (queued ones at once, running ones cooperatively, then after the grace). */
  cancel(reason?: unknown): void {
    const error = reasonInfo(reason, 'the run was cancelled');
    for (const s of this.#streams) if (!s.settled) this.#stop(s, { status: 'cancelled', error }, CANCELLED, false);
    this.#unblockAll();
  }

  /** Serves a stream attempt's services channel (it asked through the pool). */
  serve(request: ServicesRequest): void {
    serve(request, (address) => this.#servicesFor(address), this.#ports);
  }

  finishLaned(index: number, outcome: StreamOutcome): void {
    const s = this.#streams[index];
    if (s !== undefined) this.#finish(s, 1, outcome);
  }

  isSettled(index: number): boolean {
    return this.#streams[index]?.settled ?? true;
  }

  idOf(index: number): string {
    return this.#streams[index]?.spec.id ?? `#${index}`;
  }

  unlane(indices: readonly number[]): void {
    for (const s of indices.map((index) => this.#streams[index]!)) if (!s.settled) this.#dispatch(s, this.#stoppable);
  }

  /** Streams started and not settled, and streams waiting to start. */
  census(): Census {
    return census(this.#streams, this.#lanes?.claimed ?? 0, (job) => this.#runtime.scheduler.isStarted(job));
  }

  /** A retiring thread's last outcome (it arrives before Piscina fails the task of the exited thread). */
  retired(address: ServicesAddress, outcome: StreamOutcome): void {
    if (address.run === this.id) this.#lastWords.heard(address.index, address.attempt, outcome);
  }

  /** The scheduler found every running stream waiting at this run's barrier with no thread left. */
  deadlocked(report: string): void {
    if (this.#deadlock !== undefined) return;
    this.#deadlock = errorInfo(new DeadlockError(report));
    this.memory.barrier.break();
  }

  /** The guardian's decision on stream `index`, stuck. */
  decided(index: number, decision: GuardianDecision): void {
    const s = this.#streams[index];
    if (s === undefined || s.settled) return;
    if (decision.action === 'cancel') {
      const error = errorInfo(new AbortedError(`stream ${s.spec.id} was cancelled by the guardian after missing its heartbeat`));
      this.#stop(s, { status: 'cancelled', error }, CANCELLED, true);
    } else if (decision.action === 'restart') {
      this.#restart(s);
    }
  }

  readonly #onAbort = (): void => this.cancel(this.#policy.signal?.reason);

  #servicesFor(address: ServicesAddress): MainServices | undefined {
    const s = this.#streams[address.index];
    if (address.run !== this.id || s === undefined || s.attempt !== address.attempt || s.settled) return undefined;
    const attempt = s.attempt;
    return {
      recordDetails: (details) => void (s.attempt === attempt && (s.details = details)),
      processLocks: this.#runtime.processLocks,
    };
  }

  #running(): number[] {
    return this.#streams.filter((s) => !s.settled && this.memory.get(s.index, STATE) === RUNNING).map((s) => s.index);
  }

  #dispatch(s: Stream, abortable = this.#stoppable): void {
    const { index, attempt } = s;
    s.controller = abortable ? new AbortController() : undefined;
    this.memory.resetSlot(index, attempt, s.ending === undefined ? NOT_CANCELLED : CANCELLED);
    this.#records.update(s.spec.id, { state: 'queued', attempt });
    s.dispatchedAt = now();
    const job: Job = { run: this, streamId: s.spec.id, waitsOn: () => this.memory.waitsOn(index), start: () => this.#startJob(s, job, attempt) };
    s.job = job;
    this.#runtime.scheduler.submit(job);
  }

  #startJob(s: Stream, job: Job, attempt: number): void {
    this.#supervisor?.watch(s.index, () => s.details);
    if (s.spec.timeoutMs !== undefined) {
      s.disarm = armTimeBudget(this.memory, s.index, s.spec.timeoutMs, () => this.#expire(s));
    }
    const signal = s.controller?.signal;
    void startAttempt(this.#env, { spec: s.spec, index: s.index, attempt, resume: s.details, signal }).then((outcome) => {
      const last = this.#lastWords.take(s.index, attempt);
      this.#runtime.scheduler.finished(job);
      this.#finish(s, attempt, last ?? outcome);
    });
  }

  #finish(s: Stream, attempt: number, outcome: StreamOutcome): void {
    const current = attempt === s.attempt && !s.settled;
    const calledAt = current ? this.memory.startedAt(s.index) : undefined;
    this.#runtime.tracer?.attempt(s.spec.id, attempt, this.memory.get(s.index, THREAD), calledAt, outcome);
    this.#runtime.attemptTimes.record(calledAt === undefined ? undefined : calledAt - s.dispatchedAt, calledAt === undefined ? undefined : now() - calledAt);
    // An attempt replaced by a restart reports into the void.
    if (!current) return;
    s.startedAt ??= calledAt;
    if (s.ending !== undefined) return this.#settle(s, s.ending.status, undefined, s.ending.error);
    if (outcome.ok) return this.#settle(s, 'complete', outcome.value, undefined);
    // A deadlock breaks the barrier: its waiters fail with the deadlock, not a bare breakage.
    const deadlocked = this.#deadlock !== undefined && outcome.error.name === 'BrokenBarrierError';
    this.#settle(s, 'failed', undefined, deadlocked ? this.#deadlock : outcome.error);
  }

  #settle(s: Stream, status: StreamStatus, value: unknown, error: StreamErrorInfo | undefined): void {
    s.settled = true;
    s.disarm?.();
    this.memory.set(s.index, STATE, SETTLED);
    this.#supervisor?.unwatch(s.index);
    this.#releaseHoldings(s);
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
    this.#records.update(s.spec.id, { state: status === 'complete' ? 'completed' : status, startedAt: result.startedAt, completedAt });
    this.#results[s.index] = result;
    this.#pending--;
    if (status === 'complete') {
      if (this.#pending > 0) this.memory.barrier.deregister();
    } else {
      this.memory.barrier.break();
    }
    this.#convergence.onResult(result);
    this.#policy.sink?.(result);
    if (this.#pending === 0) void this.#end();
  }

  #releaseHoldings(s: Stream): void {
    const releasing = this.#runtime.releaseHoldings(s.spec.id);
    if (releasing !== undefined) this.#pendingWork.push(releasing.catch(() => {}));
  }

  async #end(): Promise<void> {
    clearTimeout(this.#runTimer);
    this.#policy.signal?.removeEventListener('abort', this.#onAbort);
    this.#supervisor?.close();
    if (this.#lanes !== undefined) this.stats.lanes = this.#lanes.end();
    const results = this.#results as StreamResult[];
    // Awaited only when there is something to wait for: a quiet run resolves in this same turn.
    const ending = this.#convergence.onEnd(results);
    if (ending !== undefined) await ending;
    checkpoints.releaseAll(this.memory.words);
    // Everything a caller may look at right after the run is done first (piscina-style promises).
    while (this.#pendingWork.length > 0) await Promise.all(this.#pendingWork.splice(0));
    for (const port of this.#ports) port.close();
    this.#records.finish();
    this.#writers.giveBack(this.memory, this.#runtime.memoryPool);
    const failed = this.#callback.error;
    if (failed !== undefined) this.#reject(failed);
    else this.#resolve(results);
  }

  /**
   * Stops stream `s`: a queued one settles at once; a running one is told through its cancel
   * word (`kind`) and terminated at once when `immediately`, else after `cancelGraceMs`.
   */
  #stop(s: Stream, ending: NonNullable<Stream['ending']>, kind: number, immediately: boolean): void {
    s.ending ??= ending;
    this.memory.set(s.index, CANCEL, kind);
    if (this.#withdraw(s)) {
      this.#settle(s, s.ending.status, undefined, s.ending.error);
      return;
    }
    if (s.job === undefined && this.#lanes !== undefined) {
      // Only whole laned runs are stopped: their lanes' threads end together.
      this.#lanes.stopAll(immediately ? 0 : this.#policy.cancelGraceMs, ending.error);
      return;
    }
    const controller = s.controller;
    if (immediately || this.memory.get(s.index, STATE) === QUEUED) {
      controller?.abort(ending.error);
      return;
    }
    s.disarm?.();
    const grace = setTimeout(() => controller?.abort(ending.error), this.#policy.cancelGraceMs);
    s.disarm = () => clearTimeout(grace);
  }

  /** Takes stream `s` back if it has not started; returns whether it had not. */
  #withdraw(s: Stream): boolean {
    if (s.job !== undefined) return this.#runtime.scheduler.withdraw(s.job);
    return this.#lanes?.withdraw(s.index) ?? false;
  }

  /** Streams parked at the barrier or a checkpoint must not wait for ones that stopped. */
  #unblockAll(): void {
    this.memory.barrier.break();
    checkpoints.releaseAll(this.memory.words);
  }

  #expire(s: Stream): void {
    if (s.settled) return;
    this.#stop(s, { status: 'failed', error: errorInfo(streamTimeout(s.spec.id, s.spec.timeoutMs)) }, TIMED_OUT, false);
  }

  #expireRun(timeoutMs: number): void {
    const error = errorInfo(runTimeout(timeoutMs));
    for (const s of this.#streams) {
      if (s.settled) continue;
      if (this.#withdraw(s)) this.#settle(s, 'cancelled', undefined, error);
      else this.#stop(s, { status: 'failed', error }, TIMED_OUT, false);
    }
    this.#unblockAll();
  }

  #restart(s: Stream): void {
    const supervisor = this.#supervisor!;
    const spent = supervisor.spendRestart(s.index);
    const old = s.controller;
    if (spent !== undefined) {
      old?.abort();
      const error = new StreamError(budgetSpentMessage(s.spec.id, spent, supervisor.budgetWithinMs));
      this.#settle(s, 'failed', undefined, errorInfo(error));
      return;
    }
    this.stats.recoveryAttempts++;
    const stuckSince = this.memory.startedAt(s.index);
    this.#runtime.tracer?.restart(s.spec.id, s.attempt, this.memory.get(s.index, THREAD), stuckSince);
    s.startedAt ??= stuckSince;
    s.disarm?.();
    // Terminates the stuck worker; its old attempt's outcome is ignored from here on.
    this.#writers.lost(this.memory, s.index);
    s.attempt++;
    old?.abort();
    // The restarted attempt starts over, so barrier rounds can no longer line up.
    this.memory.barrier.break();
    this.#releaseHoldings(s);
    this.#records.update(s.spec.id, { state: 'recovered', attempt: s.attempt });
    this.#dispatch(s);
  }
}
