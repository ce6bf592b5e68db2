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
 * task (`runTask`) first tells the idle residents to leave and waits until their threads are
 * free (or, for a resident whose thread died, until Piscina has removed it: Piscina 5 leaves a
 * task queued behind a thread that exits with no other thread to take it when `minThreads` is
 * 0, and the scheduler would then hold every later attempt behind that one); and an idle
 * resident is told to leave after {@link LINGER_MS}, so residents never keep a process alive
 * that has nothing to do.
 *
 * A resident's thread keeps its event loop running between attempts, so work a finished stream
 * left behind (a timer, a callback) runs there, as it would not on a thread parked between pool
 * tasks. Two guards keep it from costing anyone else: a resident that has not left within
 * {@link LEAVE_MS} of being told, or has not started an attempt within {@link START_MS} of
 * receiving it on its thread, is terminated (each resident task carries an AbortSignal;
 * Piscina's abortable path is paid once per resident, not per attempt); and an attempt whose resident's thread
 * ended before the attempt touched its slot never started, so it is moved to a fresh resident
 * (at most {@link MAX_MOVES} times) instead of failing for another stream's fault.
 *
 * Failure: a resident's thread that dies closes its port after every message it posted; an
 * attempt that had started then fails with the task's error, as a pool task's would (a lost
 * attempt, `attempt.ts`). An input that cannot be cloned fails its attempt with the clone error
 * and leaves the resident idle. Every wait on a resident's thread is bounded by
 * {@link BACKSTOP_MS}.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { now } from '../shared/clock.js';
import { StreamError } from '../shared/errors.js';
import { errorInfo, type LaneMessage, type ResidentTask, type StreamOutcome, type StreamTask } from './task.js';

/** How long a resident may idle before it gives its thread back: long enough for a caller's next call. */
export const LINGER_MS = 10;
/** A resident told to leave that has not within this long (its thread busy with a stream's leftover work) is terminated. */
const LEAVE_MS = 1000;
/** A resident running on its thread that has not started a posted attempt within this long (its thread busy with leftover work) is terminated. */
const START_MS = 1000;
/** The longest any wait on a resident's thread lasts: a port that never closes, a termination that never ends. */
const BACKSTOP_MS = 2000;
/** Times an attempt that never started is moved to a fresh resident before it fails. */
const MAX_MOVES = 2;

/** What `pool.run` takes beside its task. */
export type PoolRunOptions = Parameters<Piscina['run']>[1];

/** An attempt posted to a resident. */
interface Attempt {
  readonly task: StreamTask;
  /** Whether the attempt's worker has not touched its slot (it never started). */
  readonly untouched: () => boolean;
  readonly resolve: (outcome: StreamOutcome) => void;
  readonly reject: (error: unknown) => void;
  postedAt: number;
  moves: number;
}

interface Resident {
  readonly port: MessagePort;
  /** Terminates its thread. */
  readonly kill: AbortController;
  /** Its pool task, settled once its thread is free again (or gone); never rejects. */
  ended: Promise<unknown>;
  /** When its thread began running the resident task (its first message came), once it has. */
  reachedAt: number | undefined;
  /** Settles its attempt if its port never closes after its thread ended. */
  backstop: NodeJS.Timeout | undefined;
  /** Why its pool task failed (its thread ended), once it has. */
  failure: { readonly error: unknown } | undefined;
  closed: boolean;
  attempt: Attempt | undefined;
  idleSince: number;
  /** When it was told to leave, if it was. */
  leftAt: number | undefined;
}

/** A coordinator's resident lanes, and the gate every other pool task goes through. */
export class ResidentLanes {
  readonly #pool: Piscina;
  /** Residents whose pool task has not ended. */
  readonly #live = new Set<Resident>();
  /** Residents between attempts; the last one idle is taken first. */
  #idle: Resident[] = [];
  #tick: NodeJS.Timeout | undefined;
  #closed = false;
  /** When an attempt that could ride a resident last ended. */
  #lastEnd = Number.NEGATIVE_INFINITY;

  constructor(pool: Piscina) {
    this.#pool = pool;
  }

  /**
   * Runs attempt `task` on an idle resident, or a new one; settles as `pool.run(task)` would:
   * with the outcome, or rejected with the clone error or the error its thread ended with.
   * `untouched` says whether the attempt's worker has not touched its slot yet.
   */
  run(task: StreamTask, untouched: () => boolean): Promise<StreamOutcome> {
    // A resident pays off for calls that follow each other; the first call after a pause (no
    // resident idles) is a pool task: a new resident on a thread that slept costs more than one.
    const ridden =
      this.#idle.length > 0 || now() - this.#lastEnd < LINGER_MS
        ? new Promise<StreamOutcome>((resolve, reject) => this.#post({ task, untouched, resolve, reject, postedAt: 0, moves: 0 }))
        : this.runTask<StreamOutcome>(task);
    return ridden.finally(() => (this.#lastEnd = now()));
  }

  /** Runs a task of another kind on the pool, once the residents that idle have given their threads back. */
  runTask<T>(task: unknown, options?: PoolRunOptions): Promise<T> {
    // Most coordinators never hold a resident: their pool tasks build no list.
    if (this.#live.size === 0) return this.#pool.run(task, options) as Promise<T>;
    this.#dismissIdle();
    // Also those whose thread ended (port closed) before Piscina has heard: a task posted now
    // would queue behind the dead thread, and Piscina starts none for it below minThreads' count.
    const leaving = [...this.#live].filter((r) => r.leftAt !== undefined || r.closed).map((r) => r.ended);
    if (leaving.length === 0) return this.#pool.run(task, options) as Promise<T>;
    return bounded(Promise.all(leaving)).then(() => this.#pool.run(task, options) as Promise<T>);
  }

  /** Tells every idle resident to leave (the coordinator closes); attempts lost from here on are not moved. */
  close(): void {
    this.#closed = true;
    this.#dismissIdle();
  }

  #post(attempt: Attempt): void {
    const resident = this.#idle.pop() ?? this.#start();
    try {
      resident.port.postMessage(attempt.task);
    } catch (error) {
      // Nothing reached the resident: it stays as it was.
      this.#rest(resident);
      attempt.reject(error);
      return;
    }
    attempt.postedAt = now();
    resident.attempt = attempt;
    this.#arm();
  }

  #start(): Resident {
    const { port1, port2 } = new MessageChannel();
    const resident: Resident = {
      port: port1,
      kill: new AbortController(),
      ended: Promise.resolve(),
      reachedAt: undefined,
      backstop: undefined,
      failure: undefined,
      closed: false,
      attempt: undefined,
      idleSince: 0,
      leftAt: undefined,
    };
    this.#live.add(resident);
    const task: ResidentTask = { resident: port2 };
    resident.ended = this.runTask(task, { transferList: [port2], signal: resident.kill.signal }).then(
      () => this.#live.delete(resident),
      (error: unknown) => {
        this.#live.delete(resident);
        resident.failure = { error };
        this.#gone(resident);
      },
    );
    port1.on('message', (message: LaneMessage) => {
      if (!('outcome' in message)) {
        resident.reachedAt = now();
        return;
      }
      const attempt = resident.attempt;
      resident.attempt = undefined;
      if (resident.failure === undefined && !resident.closed) this.#rest(resident);
      attempt?.resolve(message.outcome);
    });
    port1.once('close', () => {
      resident.closed = true;
      this.#gone(resident);
    });
    // Its pool task keeps the process alive while it serves; the port need not.
    port1.unref();
    return resident;
  }

  /**
   * A resident's task failed or its port closed. Once its thread is gone and everything it
   * posted has arrived (its port closed; a task that never reached a thread posted nothing;
   * at worst after BACKSTOP_MS), the attempt it held is settled.
   */
  #gone(resident: Resident): void {
    this.#forget(resident);
    if (resident.failure === undefined || resident.attempt === undefined) return;
    if (resident.closed || resident.reachedAt === undefined) this.#lose(resident);
    // Not unref'd: a caller awaits this attempt, and the process must not end under it.
    else resident.backstop ??= setTimeout(() => this.#lose(resident), BACKSTOP_MS);
  }

  /** Settles the attempt a resident whose thread ended still held: moved if it never started, else lost. */
  #lose(resident: Resident): void {
    clearTimeout(resident.backstop);
    const attempt = resident.attempt;
    resident.attempt = undefined;
    if (attempt === undefined) return;
    const error = resident.failure?.error;
    if (!attempt.untouched()) {
      attempt.reject(error ?? new StreamError(`stream ${attempt.task.id}'s worker thread ended before the stream could report; run it again`));
      return;
    }
    // It never started: another stream's leftover work (or a crash it left) took the thread, not this stream.
    if (!this.#closed && attempt.moves < MAX_MOVES) {
      attempt.moves++;
      this.#post(attempt);
      return;
    }
    const never = new StreamError(`stream ${attempt.task.id} never started: its worker thread ended or stayed busy with work an earlier stream left behind`, { cause: error });
    attempt.resolve({ ok: false, error: errorInfo(never) });
  }

  #rest(resident: Resident): void {
    resident.idleSince = now();
    this.#idle.push(resident);
    this.#arm();
  }

  #forget(resident: Resident): void {
    const at = this.#idle.indexOf(resident);
    if (at >= 0) this.#idle.splice(at, 1);
  }

  #arm(): void {
    this.#tick ??= setTimeout(() => this.#sweep(), LINGER_MS).unref();
  }

  /** Dismisses residents idle for LINGER_MS; terminates those that neither left nor started an attempt in time. */
  #sweep(): void {
    this.#tick = undefined;
    const at = now();
    const stale = this.#idle.filter((r) => r.idleSince <= at - LINGER_MS);
    this.#idle = this.#idle.filter((r) => r.idleSince > at - LINGER_MS);
    for (const resident of stale) this.#dismiss(resident);
    const overdue = [...this.#live].filter((r) => overdueAt(r, at));
    // Timers run before the poll phase delivers messages: a main thread that was busy may not
    // have read an answer or an exit already waiting. Decide once this turn's messages are in.
    if (overdue.length > 0) {
      setImmediate(() => {
        const later = now();
        for (const resident of overdue) if (this.#live.has(resident) && overdueAt(resident, later)) resident.kill.abort();
      });
    }
    if (this.#live.size > 0) this.#arm();
  }

  #dismissIdle(): void {
    if (this.#idle.length === 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const resident of idle) this.#dismiss(resident);
  }

  #dismiss(resident: Resident): void {
    resident.leftAt = now();
    resident.port.postMessage(null);
    this.#arm();
  }
}

/**
 * Whether `resident` should have left (LEAVE_MS after being told) or started its attempt
 * (START_MS after both the attempt was posted and its thread began running it: a thread slow
 * to start holds no leftover work) by `at`.
 */
function overdueAt(resident: Resident, at: number): boolean {
  const attempt = resident.attempt;
  const reachedAt = resident.reachedAt;
  if (attempt !== undefined && reachedAt !== undefined && at - Math.max(attempt.postedAt, reachedAt) >= START_MS && attempt.untouched()) return true;
  return resident.leftAt !== undefined && at - resident.leftAt >= LEAVE_MS;
}

/** `promise`, or BACKSTOP_MS, whichever comes first. */
function bounded(promise: Promise<unknown>): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, BACKSTOP_MS)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}
