/**
 * Resident lanes: the round trip of a single stream at less than a pool task's cost. A
 * resident is one Piscina task that holds its thread and serves stream attempts posted on a
 * port of its own, one at a time (`resident-worker.ts`). Piscina's per-task path (its task
 * record, queue, balancer, the `Atomics.notify` that wakes a parked thread) costs more than
 * the message itself: measured on the same machine, a message to a resident and its answer
 * took 0.79x of an empty `piscina.run`, and an empty `coordinator.run()` through a pool task
 * 1.3x.
 *
 * Which attempts ride a resident: those of single-stream runs that are never stopped from
 * outside (no run signal or timeout, no supervision, no stream timeout, not an iterator's),
 * move nothing, and are not traced or recycled: the common `coordinator.run(spec)`. The
 * scheduler still counts each such attempt as holding a thread, so `maxThreads` and
 * compensation hold as for any task; a resident between attempts holds its thread for nobody.
 * So that Piscina never starts a thread for other work while residents idle, every other pool
 * task (`runTask`) first tells the idle residents to leave and waits until their tasks have
 * given their threads back (at most {@link VACATE_MS}); and an idle resident is told to leave
 * after {@link LINGER_MS}, so residents never keep a process alive that has nothing to do.
 *
 * Failure: a resident's thread that dies (a crash, `close()`) closes its port after every
 * message it posted; an attempt still in flight then fails with the task's error, as a pool
 * task's would (a lost attempt, `attempt.ts`). An input that cannot be cloned fails its attempt
 * with the clone error and leaves the resident idle.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { StreamError } from '../shared/errors.js';
import { now } from '../shared/clock.js';
import type { LaneMessage, ResidentTask, StreamOutcome, StreamTask } from './task.js';

/** How long a resident may idle before it gives its thread back: long enough for a caller's next call. */
export const LINGER_MS = 10;
/** How long an attempt lost with its resident waits for the resident's port to deliver what it posted. */
const DRAIN_MS = 1000;
/**
 * How long another pool task waits for leaving residents to give their threads back: a thread
 * busy with a stream's leftover work (a timer that spins) may never take its message to leave,
 * and then Piscina starts a thread for the task rather than leave it waiting.
 */
const VACATE_MS = 100;

/** What `pool.run` takes beside its task. */
export type PoolRunOptions = Parameters<Piscina['run']>[1];

interface InFlight {
  readonly resolve: (outcome: StreamOutcome) => void;
  readonly reject: (error: unknown) => void;
}

interface Resident {
  readonly port: MessagePort;
  /** Its pool task, settled once its thread is free again (or gone); never rejects. */
  readonly ended: Promise<unknown>;
  /** Why its pool task failed (its thread ended), once it has. */
  failure: { readonly error: unknown } | undefined;
  closed: boolean;
  attempt: InFlight | undefined;
  idleSince: number;
}

/** A coordinator's resident lanes, and the gate every other pool task goes through. */
export class ResidentLanes {
  readonly #pool: Piscina;
  /** Residents between attempts; the last one idle is taken first. */
  #idle: Resident[] = [];
  /** Pool tasks of residents told to leave that have not given their threads back yet. */
  readonly #leaving = new Set<Promise<unknown>>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(pool: Piscina) {
    this.#pool = pool;
  }

  /**
   * Runs attempt `task` on an idle resident, or a new one; settles as `pool.run(task)` would:
   * with the outcome, or rejected with the clone error or the error its thread ended with.
   */
  run(task: StreamTask): Promise<StreamOutcome> {
    const resident = this.#idle.pop() ?? this.#start();
    return new Promise((resolve, reject) => {
      try {
        resident.port.postMessage(task);
      } catch (error) {
        // Nothing reached the resident: it stays as it was.
        this.#rest(resident);
        reject(error);
        return;
      }
      resident.attempt = { resolve, reject };
    });
  }

  /** Runs a task of another kind on the pool, once the residents that idle have given their threads back. */
  runTask<T>(task: unknown, options?: PoolRunOptions): Promise<T> {
    this.#dismissIdle();
    if (this.#leaving.size === 0) return this.#pool.run(task, options) as Promise<T>;
    return this.#vacated().then(() => this.#pool.run(task, options) as Promise<T>);
  }

  /** Settles once every leaving resident has given its thread back, or after {@link VACATE_MS}. */
  #vacated(): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise((resolve) => (timer = setTimeout(resolve, VACATE_MS)));
    return Promise.race([Promise.all(this.#leaving), waited]).finally(() => clearTimeout(timer));
  }

  /** Tells every idle resident to leave (the coordinator closes). */
  close(): void {
    clearTimeout(this.#sweep);
    this.#sweep = undefined;
    this.#dismissIdle();
  }

  #start(): Resident {
    const { port1, port2 } = new MessageChannel();
    let drainTimer: NodeJS.Timeout | undefined;
    const task: ResidentTask = { resident: port2 };
    const ended = this.runTask(task, { transferList: [port2] }).catch((error: unknown) => {
      resident.failure = { error };
      this.#forget(resident);
      if (resident.attempt === undefined) return;
      if (resident.closed) this.#lose(resident);
      // A thread's messages arrive before its port's close; a task that never reached a thread has no port to close.
      else drainTimer = setTimeout(() => this.#lose(resident), DRAIN_MS);
    });
    const resident: Resident = { port: port1, ended, failure: undefined, closed: false, attempt: undefined, idleSince: 0 };
    port1.on('message', (message: LaneMessage) => {
      if (!('outcome' in message)) return;
      const attempt = resident.attempt;
      resident.attempt = undefined;
      if (resident.failure === undefined && !resident.closed) this.#rest(resident);
      attempt?.resolve(message.outcome);
    });
    port1.once('close', () => {
      resident.closed = true;
      this.#forget(resident);
      if (resident.failure === undefined) return;
      clearTimeout(drainTimer);
      this.#lose(resident);
    });
    // Its pool task keeps the process alive while it serves; the port need not.
    port1.unref();
    return resident;
  }

  /** Fails the attempt in flight on a resident whose thread ended. */
  #lose(resident: Resident): void {
    const attempt = resident.attempt;
    resident.attempt = undefined;
    const error = resident.failure?.error ?? new StreamError('the worker thread ended before the stream could report; run it again');
    attempt?.reject(error);
  }

  #rest(resident: Resident): void {
    resident.idleSince = now();
    this.#idle.push(resident);
    this.#sweep ??= setTimeout(() => this.#sweepIdle(), LINGER_MS).unref();
  }

  #forget(resident: Resident): void {
    const at = this.#idle.indexOf(resident);
    if (at >= 0) this.#idle.splice(at, 1);
  }

  #sweepIdle(): void {
    this.#sweep = undefined;
    const cutoff = now() - LINGER_MS;
    const stale = this.#idle.filter((r) => r.idleSince <= cutoff);
    this.#idle = this.#idle.filter((r) => r.idleSince > cutoff);
    for (const resident of stale) this.#dismiss(resident);
    if (this.#idle.length > 0) this.#sweep = setTimeout(() => this.#sweepIdle(), LINGER_MS).unref();
  }

  #dismissIdle(): void {
    if (this.#idle.length === 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const resident of idle) this.#dismiss(resident);
  }

  #dismiss(resident: Resident): void {
    resident.port.postMessage(null);
    const ended = resident.ended;
    this.#leaving.add(ended);
    void ended.then(() => this.#leaving.delete(ended));
  }
}
