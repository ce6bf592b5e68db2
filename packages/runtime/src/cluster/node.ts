/**
 * ClusterNode: what `tributary-node` runs on every host. It takes the queue's stream jobs
 * (BullMQ), runs each stream on a local worker thread (Piscina), and keeps its own event loop
 * free, so BullMQ's job-lock renewals and its session lease never lapse while a stream burns
 * CPU: the stall-and-run-twice of CPU-bound BullMQ jobs cannot happen to a live node.
 *
 * Every {@link FLUSH_MS} the main thread forwards, in one batch per tick, each running
 * stream's progress and heartbeat (job progress) and heartbeat details (for a re-run's
 * `ctx.resume`), and reads each run's cancel flag and pending checkpoint into the streams'
 * shared words.
 */
import { PISCINA_ENTRY } from '../shared/piscina-entry-url.js';
import { MessageChannel } from 'node:worker_threads';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { Worker as BullWorker, WaitingError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { Piscina } from 'piscina';
import * as atomics from '../shared/atomics.js';
import { AbortedError, InvalidStateError } from '../shared/errors.js';
import { onDisk } from '../fs/fs-errors.js';
import { filePath, nonEmptyString, optionsObject, positiveFinite, positiveInteger } from '../shared/validate.js';
import { errorInfo } from '../streams/task.js';
import type { StreamErrorInfo, StreamStatus } from '../streams/types.js';
import { allowList, vetModule, type AllowList } from './allow.js';
import { serveBridge } from './bridge.js';
import { bullConnection, openRedis, redact, type ConnectionOption } from './connection.js';
import { BEAT, CANCEL, CP_EPOCH, PROGRESS, PROGRESS_SCALE, runKeys, RUN_KEY_TTL_S, WORDS, type AttemptOutcome, type BeatReport, type ClusterTask, type StreamJob } from './job.js';
import { streamDirectory } from './files.js';
import { Session } from './primitives/session.js';
import { attemptServices, runBarrier, type AttemptServices } from './services.js';

/** Options of a {@link ClusterNode}. */
export interface ClusterNodeOptions {
  /** Where Redis is. */
  readonly connection: ConnectionOption;
  /** The queue (the coordinators' `name`). Default `tributary`. */
  readonly name?: string;
  /** Worker threads, and streams run at once. Default: the machine's available parallelism. */
  readonly threads?: number;
  /** Directories and package names whose stream modules this node may run. Default: none (only `simulate`). */
  readonly allow?: readonly string[];
  /** Where relative `allow` roots and package names are resolved. Default: the working directory. */
  readonly cwd?: string;
  /** BullMQ job lock: a dead node's streams are re-run after about this long. Default 30,000. */
  readonly lockDurationMs?: number;
  /** This node's session lease: its mutexes and grants are reclaimed this long after it dies. Default 3000. */
  readonly leaseMs?: number;
  /** Key prefix of the deployment. Default `tributary`. */
  readonly prefix?: string;
  /**
   * This host's path to the file system the cluster shares (`--shared-root`): stream directories
   * (`ctx.directory`) are made under it, and file locks on paths under it are keyed by the path
   * relative to it, so hosts that mount it in different places lock the same file. Default:
   * none (a run with isolation fails its streams here, saying so; file locks key by real path).
   */
  readonly sharedRoot?: string;
  /** Receives one event per line worth logging (never with secrets). Default: none. */
  readonly log?: (event: Record<string, unknown>) => void;
}

/** How often progress, heartbeats and details are forwarded, and cancel/checkpoint flags read. */
export const FLUSH_MS = 100;
/** How long a cancelled stream gets to stop on its own before its thread is terminated. */
const CANCEL_GRACE_MS = 250;
/** Times a job may be found stalled (its node died) and re-run before it fails. */
const MAX_STALLED = 5;

interface Attempt {
  readonly job: Job<StreamJob, AttemptOutcome>;
  /** BullMQ's attemptsStarted when this attempt began (the stream's `ctx.attempt`). */
  readonly attempt: number;
  readonly words: Int32Array;
  readonly services: AttemptServices;
  /** Aborts the main-side waits of the attempt when the run is cancelled. */
  readonly cancel: AbortController;
  /** Terminates the attempt's thread. */
  readonly kill: AbortController;
  lastProgress: number;
  lastBeat: number;
  /** When a beat was last sent for it (node clock). */
  lastSent: number;
  /** Blocking calls in progress: the stream is parked in a wait, which counts as beating. */
  parked: number;
  handBack: boolean;
  /** The coordinator's supervisor asked for a restart: end the thread, hand the job back to the queue. */
  restart: boolean;
}

/** A Tributary node: runs the queue's streams on local worker threads. See the module documentation. */
export class ClusterNode {
  readonly #redis: Redis;
  readonly #session: Session;
  readonly #pool: Piscina;
  readonly #allow: AllowList;
  readonly #active = new Map<string, Attempt>();
  readonly #options: Required<Pick<ClusterNodeOptions, 'name' | 'threads' | 'lockDurationMs'>> & ClusterNodeOptions;
  #worker: BullWorker<StreamJob, AttemptOutcome> | undefined;
  /** The client handed to BullMQ's worker, which never closes a client it was given. */
  #bullClient: Redis | undefined;
  #flusher: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: ClusterNodeOptions) {
    const o = optionsObject('options', options);
    const threads = o.threads === undefined ? availableParallelism() : positiveInteger('options.threads', o.threads, 1024);
    const name = o.name === undefined ? 'tributary' : nonEmptyString('options.name', o.name);
    const lockDurationMs = o.lockDurationMs === undefined ? 30_000 : positiveFinite('options.lockDurationMs', o.lockDurationMs);
    if (o.sharedRoot !== undefined) filePath('options.sharedRoot', o.sharedRoot);
    this.#options = { ...options, name, threads, lockDurationMs };
    this.#allow = allowList(o.allow ?? [], o.cwd);
    this.#redis = openRedis(options.connection);
    this.#session = new Session(this.#redis, { prefix: o.prefix, leaseMs: o.leaseMs });
    this.#pool = new Piscina({
      filename: PISCINA_ENTRY,
      workerData: { entry: new URL('./worker.js', import.meta.url).href },
      maxThreads: threads,
      minThreads: threads,
    });
  }

  /** The session id of this node (what its holds record as owner). */
  get id(): string {
    return this.#session.id;
  }

  /** Connects, takes its session lease and starts taking jobs. */
  async start(): Promise<void> {
    await this.#session.start();
    const { lockDurationMs } = this.#options;
    this.#worker = new BullWorker<StreamJob, AttemptOutcome>(this.#options.name, (job, token) => this.#process(job, token), {
      connection: (this.#bullClient = bullConnection(this.#options.connection)),
      prefix: this.#session.prefix,
      concurrency: this.#options.threads,
      lockDuration: lockDurationMs,
      stalledInterval: lockDurationMs,
      maxStalledCount: MAX_STALLED,
    });
    this.#worker.on('error', (error) => this.#log({ event: 'error', message: redact(error.message) }));
    await this.#worker.waitUntilReady();
    this.#flusher = setInterval(() => void this.#flush().catch((e: Error) => this.#log({ event: 'error', message: redact(e.message) })), FLUSH_MS);
    this.#log({ event: 'ready', node: this.id, queue: this.#options.name, threads: this.#options.threads });
  }

  /**
   * Stops taking jobs and lets running streams finish for up to `graceMs` (default 30,000);
   * streams still running then are handed back to the queue for another node, not failed.
   */
  close(graceMs = 30_000): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<void> {
    const closing = this.#worker?.close();
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), graceMs)));
    if ((await Promise.race([closing, grace])) === 'late') {
      for (const attempt of this.#active.values()) {
        attempt.handBack = true;
        attempt.kill.abort();
      }
      await closing;
    }
    clearTimeout(timer);
    clearInterval(this.#flusher);
    await this.#pool.destroy();
    await this.#session.close();
    this.#redis.disconnect();
    this.#bullClient?.disconnect();
    this.#log({ event: 'closed', node: this.id });
  }

  async #process(job: Job<StreamJob, AttemptOutcome>, token: string | undefined): Promise<AttemptOutcome> {
    const data = job.data;
    const startedAt = Date.now();
    const attempts = job.attemptsStarted;
    const keys = runKeys(this.#session.prefix, data.runId);
    const outcome = (status: StreamStatus, rest: { value?: unknown; error?: StreamErrorInfo }): AttemptOutcome => {
      this.#log({ event: 'end', run: data.runId, stream: data.id, attempt: attempts, status });
      return { status, ...rest, startedAt, completedAt: Date.now(), attempts };
    };
    // Both reads go out back to back (one round trip's wait); most attempts need neither answer.
    const [cancelled, resume] = await Promise.all([this.#redis.get(keys.cancel), this.#redis.hget(keys.resume, data.id)]);
    if (cancelled !== null) {
      return outcome('cancelled', { error: errorInfo(new AbortedError(`stream ${data.id} was cancelled before it started`)) });
    }
    let href: string | undefined;
    let directory: string | undefined;
    try {
      href = data.task === undefined ? undefined : vetModule(data.task, this.#allow);
      directory = data.isolation ? this.#directory(data, attempts) : undefined;
    } catch (error) {
      this.#log({ event: 'refused', run: data.runId, stream: data.id, message: (error as Error).message });
      await runBarrier(this.#session, data).break();
      return outcome('failed', { error: errorInfo(error) });
    }
    const words = new Int32Array(new SharedArrayBuffer(WORDS * 4));
    const { port1, port2 } = new MessageChannel();
    const cancel = new AbortController();
    const services = attemptServices(this.#session, data, attempts, cancel.signal, this.#options.sharedRoot);
    const attempt: Attempt = {
      job, attempt: attempts, words, services, cancel, kill: new AbortController(),
      lastProgress: -1, lastBeat: 0, lastSent: 0, parked: 0, handBack: false, restart: false,
    };
    this.#active.set(job.id!, attempt);
    serveBridge(port1, words, services.handlers, (delta) => (attempt.parked += delta));
    this.#log({ event: 'start', run: data.runId, stream: data.id, attempt: attempts, node: this.id });
    let result: Awaited<ReturnType<typeof import('./worker.js').default>> | undefined;
    try {
      const task: ClusterTask = { job: data, href, attempt: attempts, resume: resume === null ? undefined : JSON.parse(resume), directory, words: words.buffer as SharedArrayBuffer, port: port2 };
      result = await this.#pool.run(task, { transferList: [port2], signal: attempt.kill.signal });
    } catch (error) {
      if (!attempt.handBack && !attempt.restart && !cancel.signal.aborted) throw error;
    } finally {
      this.#active.delete(job.id!);
      port1.close();
      // Only a handed-back stream's last details still matter (the next node resumes from them).
      if (attempt.handBack || attempt.restart) await this.#forward([attempt]).catch(() => {});
      await services.release();
    }
    if (attempt.handBack || (attempt.restart && result === undefined)) {
      // Shutting down, or restarted by the supervisor: a node (maybe this one) runs it again with
      // attemptsStarted + 1; this attempt neither completes nor fails the job.
      await job.moveToWait(token);
      this.#log({ event: attempt.restart ? 'restarted' : 'handed-back', run: data.runId, stream: data.id, attempt: attempts });
      throw new WaitingError();
    }
    if (result === undefined || cancel.signal.aborted) {
      return outcome('cancelled', { error: errorInfo(new AbortedError(`stream ${data.id} was cancelled`)) });
    }
    if (!result.ok) {
      // A failed stream breaks the run's barrier: the others fail instead of waiting for it.
      await runBarrier(this.#session, data).break();
      return outcome('failed', { error: result.error });
    }
    return outcome('complete', { value: result.value });
  }

  /** Makes the attempt's own directory on the shared file system. */
  #directory(data: StreamJob, attempt: number): string {
    const root = this.#options.sharedRoot;
    if (root === undefined) {
      throw new InvalidStateError(
        `stream ${data.id} needs a directory (the coordinator has isolation on), but node ${this.id} has no shared root; ` +
          'start every node with --shared-root <its path to the shared file system>',
      );
    }
    const directory = streamDirectory(resolve(root), data.runId, data.id, attempt);
    onDisk('create', directory, () => mkdirSync(directory, { recursive: true }));
    return directory;
  }

  /** One batch: forward progress and details of every running stream, read run flags. */
  async #flush(): Promise<void> {
    const attempts = [...this.#active.values()];
    if (attempts.length === 0) return;
    await this.#forward(attempts);
    const runs = [...new Set(attempts.map((a) => a.job.data.runId))];
    const keys = runs.map((r) => runKeys(this.#session.prefix, r));
    // One round trip: every run's flags, and the supervisor's stop requests of supervised runs.
    const pipeline = this.#redis.pipeline().mget(keys.flatMap((k) => [k.cancel, k.checkpoint]));
    const supervised = runs.filter((run) => attempts.some((a) => a.job.data.runId === run && a.job.data.parkBeatMs !== undefined));
    for (const run of supervised) pipeline.hgetall(runKeys(this.#session.prefix, run).stop);
    const replies = (await pipeline.exec()) ?? [];
    const flags = (replies[0]?.[1] ?? []) as (string | null)[];
    const stops = new Map(supervised.map((run, i) => [run, (replies[i + 1]?.[1] ?? {}) as Record<string, string>]));
    runs.forEach((run, i) => {
      const cancelled = flags[2 * i] !== null && flags[2 * i] !== undefined;
      const epoch = Number(flags[2 * i + 1] ?? 0);
      for (const a of attempts) {
        if (a.job.data.runId !== run) continue;
        if (epoch > atomics.load(a.words, CP_EPOCH)) atomics.store(a.words, CP_EPOCH, epoch);
        if (cancelled && !a.cancel.signal.aborted) this.#cancel(a);
        this.#stop(a, stops.get(run)?.[a.job.data.id]);
      }
    });
  }

  /** Acts on the supervisor's request `<attempt>:restart|cancel`, if it names this attempt. */
  #stop(a: Attempt, request: string | undefined): void {
    if (request === undefined || a.restart || a.cancel.signal.aborted) return;
    const [attempt, action] = request.split(':');
    if (Number(attempt) !== a.attempt) return;
    if (action === 'cancel') {
      this.#cancel(a);
    } else if (action === 'restart') {
      a.restart = true;
      // A stuck stream does not look at its signal: end its thread now, as in-process.
      a.kill.abort();
    }
  }

  #cancel(a: Attempt): void {
    atomics.store(a.words, CANCEL, 1);
    a.cancel.abort(new AbortedError('the run was cancelled'));
    // A stream that does not look at ctx.signal or ctx.checkpoint is stopped by ending its thread.
    setTimeout(() => a.kill.abort(), CANCEL_GRACE_MS).unref();
  }

  async #forward(attempts: readonly Attempt[]): Promise<void> {
    const pipeline = this.#redis.pipeline();
    const updates: Promise<void>[] = [];
    for (const a of attempts) {
      const progress = atomics.load(a.words, PROGRESS);
      const beat = atomics.load(a.words, BEAT);
      const details = a.services.takeDetails();
      const parkBeatMs = a.job.data.parkBeatMs;
      // A stream parked in a blocking call (barrier, lock, state wait) beats while it waits, as in-process.
      const parkedBeat = parkBeatMs !== undefined && a.parked > 0 && Date.now() - a.lastSent >= parkBeatMs;
      if (progress !== a.lastProgress || beat !== a.lastBeat || parkedBeat) {
        a.lastProgress = progress;
        a.lastBeat = beat;
        a.lastSent = Date.now();
        const report: BeatReport = {
          progress: progress / PROGRESS_SCALE,
          beatAt: a.lastSent,
          attempt: a.attempt,
          ...(parkBeatMs !== undefined && details !== undefined ? { details } : {}),
        };
        updates.push(a.job.updateProgress(report as unknown as object).catch(() => {}));
      }
      if (details !== undefined) {
        const key = runKeys(this.#session.prefix, a.job.data.runId).resume;
        pipeline.hset(key, a.job.data.id, JSON.stringify(details)).expire(key, RUN_KEY_TTL_S);
      }
    }
    await Promise.all([pipeline.length > 0 ? pipeline.exec() : undefined, ...updates]);
  }

  #log(event: Record<string, unknown>): void {
    this.#options.log?.(event);
  }
}
