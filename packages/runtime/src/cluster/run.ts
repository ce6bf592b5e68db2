/**
 * One run on the cluster: adds a BullMQ job per stream, hears of each job's progress and end
 * (QueueEvents, with a once-a-second reconciliation against the jobs themselves in case an
 * event was missed across a reconnect, or failing it if its job vanished), and settles **exactly one result per stream id**: the
 * first end wins and any later one (a node presumed dead finishing after all) is dropped.
 * It also drives aligned checkpoints and cancellation (signal, timeout, consumer leaving).
 */
import { randomUUID } from 'node:crypto';
import type { Job, Queue, QueueEvents } from 'bullmq';
import { AbortedError, StreamError, TimeoutError } from '../shared/errors.js';
import { errorInfo } from '../streams/task.js';
import type { CheckpointRecord, ConvergenceType, StreamErrorInfo, StreamResult } from '../streams/types.js';
import type { Supervision } from '../streams/supervisor.js';
import { runKeys, RUN_KEY_TTL_S, type AttemptOutcome, type BeatReport, type StreamJob } from './job.js';
import { RedisBarrier } from './primitives/barrier.js';
import { pollUntil } from './primitives/poll.js';
import type { Session } from './primitives/session.js';
import type { ClusterSpec } from './specs.js';
import { ClusterSupervisor } from './supervise.js';
import type { ClusterIsolation } from './files.js';

/** What a run needs from its coordinator. */
export interface ClusterRunDeps {
  readonly session: Session;
  readonly queue: Queue<StreamJob, AttemptOutcome>;
  readonly events: QueueEvents;
  readonly scope: string;
  readonly resources: boolean;
  readonly maxVersions: number;
  /** Redis unreachable this long fails the streams still unsettled (nothing waits forever on a dead server). */
  readonly unreachableMs: number;
  /** Heartbeat supervision of running streams; undefined: none. */
  readonly supervision: Supervision | undefined;
  /** Per-stream directories on the shared file system; undefined: none. */
  readonly isolation: ClusterIsolation | undefined;
  /** Default wait of `ctx.fileLocks` (ms). */
  readonly fileLockTimeoutMs: number;
}

/** Options of one run. */
export interface ClusterRunOptions {
  readonly convergence: ConvergenceType;
  readonly intervalMs: number;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number | undefined;
  readonly onResult: (result: StreamResult) => void;
  readonly onCheckpoint: (record: CheckpointRecord) => void;
}

/** How often unsettled jobs are looked up directly, in case their end event was missed. */
const RECONCILE_MS = 1000;
/** A stop request outlives its last write this long: nodes read it every 100 ms while they live. */
const STOP_TTL_S = 60;
/** After a cancel, how long running streams get to report before they are settled as cancelled here. */
const CANCEL_SETTLE_MS = 5000;

/** One cluster run. See the module documentation. */
export class ClusterRun {
  readonly id = randomUUID();
  readonly #deps: ClusterRunDeps;
  readonly #specs: readonly ClusterSpec[];
  readonly #options: ClusterRunOptions;
  readonly #results: (StreamResult | undefined)[];
  readonly #index = new Map<string, number>();
  readonly #queuedAt = Date.now();
  readonly #running = new Set<string>();
  readonly #progress: Record<string, number> = {};
  /** When each stream's first attempt became active (coordinator clock). */
  readonly #startedAt = new Map<string, number>();
  readonly #supervisor: ClusterSupervisor | undefined;
  #settled = 0;
  #cancelled: Error | undefined;
  #finish!: (results: StreamResult[]) => void;
  readonly done: Promise<StreamResult[]>;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #listeners: [string, (...args: never[]) => void][] = [];

  constructor(deps: ClusterRunDeps, specs: readonly ClusterSpec[], options: ClusterRunOptions) {
    this.#deps = deps;
    this.#specs = specs;
    this.#options = options;
    this.#results = specs.map(() => undefined);
    specs.forEach((_, i) => this.#index.set(this.#jobId(i), i));
    this.done = new Promise((resolve) => (this.#finish = resolve));
    this.#supervisor = deps.supervision === undefined ? undefined : new ClusterSupervisor(deps.supervision, this.#supervised());
  }

  /** Adds the jobs and starts listening. Resolves once the jobs are in the queue. */
  async start(): Promise<void> {
    this.#listen('completed', ({ jobId, returnvalue }: { jobId: string; returnvalue: unknown }) => {
      const outcome = (typeof returnvalue === 'string' ? JSON.parse(returnvalue) : returnvalue) as AttemptOutcome;
      this.#settle(jobId, { ...outcome });
    });
    this.#listen('failed', ({ jobId, failedReason }: { jobId: string; failedReason: string }) => this.#settleFailed(jobId, failedReason));
    this.#listen('active', ({ jobId }: { jobId: string }) => {
      const i = this.#index.get(jobId);
      if (i === undefined || this.#results[i] !== undefined) return;
      this.#running.add(this.#specs[i]!.id);
      if (!this.#startedAt.has(this.#specs[i]!.id)) this.#startedAt.set(this.#specs[i]!.id, Date.now());
    });
    this.#listen('progress', ({ jobId, data }: { jobId: string; data: unknown }) => {
      const i = this.#index.get(jobId);
      const report = data as Partial<BeatReport> | undefined;
      if (i === undefined || this.#results[i] !== undefined) return;
      const id = this.#specs[i]!.id;
      if (typeof report?.progress === 'number') this.#progress[id] = report.progress;
      if (typeof report?.attempt === 'number') this.#supervisor?.beat(id, report.attempt, report.details);
    });
    const { signal, timeoutMs } = this.#options;
    if (signal?.aborted) this.cancel(signal.reason as Error);
    signal?.addEventListener('abort', () => this.cancel(new AbortedError('the run was aborted', { cause: signal.reason })), { once: true });
    if (timeoutMs !== undefined) {
      this.#timers.push(setTimeout(() => this.cancel(new TimeoutError(`the run did not converge within options.timeoutMs (${timeoutMs} ms)`)), timeoutMs));
    }
    this.#deps.isolation?.addRun(this.id, this.#specs.map((s) => s.id));
    await this.#deps.queue.addBulk(
      this.#specs.map((spec, i) => ({
        name: spec.id,
        data: {
          runId: this.id,
          id: spec.id,
          task: spec.task,
          exportName: spec.exportName,
          input: spec.input,
          durationMs: spec.durationMs,
          parties: this.#specs.length,
          scope: this.#deps.scope,
          resources: this.#deps.resources,
          maxVersions: this.#deps.maxVersions,
          convergence: this.#options.convergence,
          intervalMs: this.#options.intervalMs,
          ...(this.#supervisor === undefined ? {} : { parkBeatMs: this.#supervisor.parkBeatMs }),
          isolation: this.#deps.isolation !== undefined,
          fileLockTimeoutMs: this.#deps.fileLockTimeoutMs,
        },
        // attempts: 1 — a stream that throws is a result, not a retry; only a dead node's job is re-run (stall recovery).
        opts: { jobId: this.#jobId(i), attempts: 1, removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } },
      })),
    );
    let reachedAt = Date.now();
    let inFlight = false;
    this.#timers.push(
      setInterval(() => {
        // BullMQ's client queues commands while disconnected, so a look-up may never answer:
        // what bounds the run is the time since Redis last answered, not a failed call.
        if (Date.now() - reachedAt >= this.#deps.unreachableMs) {
          const reason = `Redis did not answer for ${this.#deps.unreachableMs} ms (options.unreachableMs); the stream's outcome is unknown`;
          this.#specs.forEach((_, i) => this.#settleFailed(this.#jobId(i), reason));
          return;
        }
        if (inFlight) return;
        inFlight = true;
        this.#reconcile().then(
          () => {
            reachedAt = Date.now();
            inFlight = false;
          },
          () => (inFlight = false),
        );
      }, RECONCILE_MS),
    );
    if (this.#options.convergence === 'checkpoint') void this.#checkpoints();
    if (this.#cancelled !== undefined) this.cancel(this.#cancelled);
  }

  /** Cancels the run: queued streams never start, running ones are stopped by their nodes. */
  cancel(reason: Error): void {
    if (this.#settled === this.#specs.length) return;
    const first = this.#cancelled === undefined;
    this.#cancelled ??= reason;
    if (!first) return;
    const keys = runKeys(this.#deps.session.prefix, this.id);
    void this.#deps.session.redis.set(keys.cancel, '1', 'EX', RUN_KEY_TTL_S).catch(() => {});
    // Jobs still waiting are removed (remove refuses a job a node holds the lock of).
    void Promise.all(
      this.#specs.map(async (_, i) => {
        const jobId = this.#jobId(i);
        const job = await this.#deps.queue.getJob(jobId);
        if (job !== undefined && (await job.getState()) === 'waiting' && (await job.remove().then(() => true, () => false))) this.#settleCancelled(jobId);
      }),
    ).catch(() => {});
    // Bounded: streams whose node never reports (all nodes gone) are settled here.
    this.#timers.push(setTimeout(() => this.#specs.forEach((_, i) => this.#settleCancelled(this.#jobId(i))), CANCEL_SETTLE_MS));
  }

  #jobId(i: number): string {
    return `${this.id}_${i}`;
  }

  /** What the supervisor's decisions do to this run. */
  #supervised(): ConstructorParameters<typeof ClusterSupervisor>[1] {
    const keys = runKeys(this.#deps.session.prefix, this.id);
    const redis = this.#deps.session.redis;
    return {
      stop: (streamId, attempt, action) => {
        // Not deleted when the run ends (a cancelled stream's node must still read it): it expires.
        void redis.multi().hset(keys.stop, streamId, `${attempt}:${action}`).expire(keys.stop, STOP_TTL_S).exec().catch(() => {});
        // The restarted attempt starts over, so barrier rounds can no longer line up (as in-process).
        if (action === 'restart') void new RedisBarrier(this.#deps.session, `run:${this.id}`, this.#specs.length).break().catch(() => {});
      },
      settle: (streamId, status, error, attempts) => {
        const i = this.#specs.findIndex((s) => s.id === streamId);
        const now = Date.now();
        this.#settle(this.#jobId(i), { status, error: errorInfo(error), startedAt: this.#startedAt.get(streamId) ?? this.#queuedAt, completedAt: now, attempts });
      },
    };
  }

  #listen(event: string, fn: (args: never) => void): void {
    this.#deps.events.on(event as 'completed', fn as never);
    this.#listeners.push([event, fn]);
  }

  async #reconcile(): Promise<void> {
    for (let i = 0; i < this.#specs.length; i++) {
      if (this.#results[i] !== undefined) continue;
      const job: Job<StreamJob, AttemptOutcome> | undefined = await this.#deps.queue.getJob(this.#jobId(i));
      if (job === undefined) {
        // Nothing will ever end it: fail it rather than wait forever.
        this.#settleFailed(this.#jobId(i), 'its job vanished from Redis (restarted without persistence, or flushed); run it again');
        continue;
      }
      if (job.finishedOn === undefined) continue;
      if (job.returnvalue !== null && job.returnvalue !== undefined) this.#settle(job.id!, job.returnvalue);
      else this.#settleFailed(job.id!, job.failedReason);
    }
  }

  #settleFailed(jobId: string, reason: string): void {
    const now = Date.now();
    const error: StreamErrorInfo = errorInfo(new StreamError(`the stream's job failed on the cluster: ${reason}`));
    this.#settle(jobId, { status: 'failed', error, startedAt: now, completedAt: now, attempts: 0 });
  }

  #settleCancelled(jobId: string): void {
    const now = Date.now();
    const reason = this.#cancelled ?? new AbortedError('the run was cancelled');
    this.#settle(jobId, { status: 'cancelled', error: errorInfo(reason), startedAt: this.#queuedAt, completedAt: now, attempts: 0 });
  }

  #settle(jobId: string, outcome: AttemptOutcome): void {
    const i = this.#index.get(jobId);
    // Exactly once per stream id: a second end (a late result) is dropped here.
    if (i === undefined || this.#results[i] !== undefined) return;
    const id = this.#specs[i]!.id;
    let result: StreamResult = { id, ...outcome };
    // A stream cut short by a timeout says so.
    if (result.status === 'cancelled' && this.#cancelled instanceof TimeoutError) result = { ...result, error: errorInfo(this.#cancelled) };
    this.#results[i] = result;
    this.#running.delete(id);
    this.#supervisor?.settled(id);
    this.#settled++;
    this.#options.onResult(result);
    if (this.#settled === this.#specs.length) void this.#end();
  }

  async #end(): Promise<void> {
    for (const t of this.#timers) clearTimeout(t);
    for (const [event, fn] of this.#listeners) this.#deps.events.off(event as 'completed', fn as never);
    this.#supervisor?.close();
    this.#finish(this.#results as StreamResult[]);
    // After the results: with Redis unreachable this may never answer (the keys also expire).
    const keys = runKeys(this.#deps.session.prefix, this.id);
    const s = this.#deps.session;
    await s.redis.del(keys.cancel, keys.checkpoint, keys.released, keys.resume, s.key('barrier', `run:${this.id}`), s.key('barrier', `run:${this.id}:arrivals`)).catch(() => {});
  }

  async #checkpoints(): Promise<void> {
    const { intervalMs } = this.#options;
    const keys = runKeys(this.#deps.session.prefix, this.id);
    const redis = this.#deps.session.redis;
    for (let epoch = 1; this.#settled < this.#specs.length && this.#cancelled === undefined; epoch++) {
      await new Promise((r) => this.#timers.push(setTimeout(r, intervalMs)));
      if (this.#settled === this.#specs.length || this.#cancelled !== undefined) return;
      const streams = [...this.#running];
      await redis.set(keys.checkpoint, epoch, 'EX', RUN_KEY_TTL_S);
      // Wait for every running stream to arrive, or the interval to pass: laggards are reported, not awaited.
      const arrived = await pollUntil(`checkpoint ${epoch}`, { timeoutMs: intervalMs }, async () => {
        const members = await redis.smembers(keys.arrivals(epoch));
        return streams.every((id) => members.includes(id) || !this.#running.has(id)) ? members : undefined;
      }).catch(() => redis.smembers(keys.arrivals(epoch)));
      await redis.multi().set(keys.released, epoch, 'EX', RUN_KEY_TTL_S).del(keys.arrivals(epoch)).exec();
      const progress = Object.fromEntries(this.#specs.map((s, i) => [s.id, this.#results[i] === undefined ? (this.#progress[s.id] ?? 0) : 1]));
      this.#options.onCheckpoint({ epoch, timestamp: Date.now(), streams, progress, lagging: streams.filter((id) => !arrived.includes(id)) });
    }
  }
}
