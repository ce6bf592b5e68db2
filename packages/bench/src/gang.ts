/**
 * A gang of long-lived benchmark workers that run rounds of one operation on command, so
 * contended benchmarks time the operation and not thread start-up.
 *
 * Control words (Int32), and who writes each:
 *
 * | word          | writer        | meaning                                                       |
 * |---------------|---------------|---------------------------------------------------------------|
 * | COMMAND       | main thread   | round number, bumped per round; STOP ends the workers         |
 * | OP            | main thread   | index into the worker's op table, set before COMMAND is bumped |
 * | ITERATIONS    | main thread   | per worker per round, set before COMMAND is bumped            |
 * | DONE          | every worker  | bumped (and notified) after each worker acknowledges a round   |
 * | ACK + i       | worker i only | the last COMMAND worker i finished                            |
 *
 * A round is finished when every ACK word equals its COMMAND, not when DONE reaches a count:
 * DONE only wakes the main thread, so a stray extra bump can neither finish a round early nor
 * leave it waiting forever.
 */
import { Worker } from 'node:worker_threads';

export const COMMAND = 0;
export const OP = 1;
export const ITERATIONS = 2;
export const DONE = 3;
export const ACK = 4;
export const STOP = -1;
/** How long a worker waits for the next command before it decides it was abandoned. */
export const IDLE_LIMIT_MS = 60_000;
/** How long {@link Gang.round} waits for every worker before it fails. */
export const ROUND_LIMIT_MS = 30_000;

/** The operations a gang worker knows, by index. */
export const OPS = ['mutex', 'raw-mutex', 'barrier', 'raw-barrier', 'semaphore', 'raw-semaphore', 'rwlock-write', 'counter', 'raw-counter'] as const;
export type GangOp = (typeof OPS)[number];

/** What every gang worker receives. */
export interface GangData {
  readonly control: SharedArrayBuffer;
  readonly shared: Record<string, unknown>;
  readonly parties: number;
  /** This worker's index: it writes only word ACK + index. */
  readonly index: number;
}

/** Workers that run `op` x `iterations` together each time {@link Gang.round} is called. */
export class Gang {
  readonly #control: Int32Array;
  readonly #workers: Worker[];
  #failure: Error | undefined;
  /**
   * Rejects with the first failure. A round races it: a pending `Atomics.waitAsync` does not
   * keep Node's event loop alive, so without it a gang whose workers died would let the
   * process exit silently in the middle of a round.
   */
  readonly #failed: Promise<never>;
  #closing = false;

  constructor(size: number, shared: Record<string, unknown>) {
    this.#control = new Int32Array(new SharedArrayBuffer(4 * (ACK + size)));
    let fail!: (error: Error) => void;
    this.#failed = new Promise<never>((_, reject) => {
      fail = (error) => {
        this.#failure ??= error;
        reject(this.#failure);
      };
    });
    this.#failed.catch(() => {}); // observed by round(); a gang that fails between rounds is no unhandled rejection
    this.#workers = Array.from({ length: size }, (_, index) => {
      const workerData: GangData = { control: this.#control.buffer as SharedArrayBuffer, shared, parties: size, index };
      // The compiled worker: the suites run from dist/ (the bench files import them there).
      const w = new Worker(new URL('./gang-worker.js', import.meta.url), { workerData });
      w.on('error', fail);
      // A worker that left (idle limit, crash) would otherwise leave the next round waiting.
      w.on('exit', (code) => {
        if (!this.#closing) fail(new Error(`gang worker ${index} exited (code ${code}) before the gang was closed`));
      });
      return w;
    });
  }

  /** Runs one round on every worker and resolves when all have acknowledged it. */
  async round(op: GangOp, iterations: number): Promise<void> {
    const c = this.#control;
    if (this.#failure) throw this.#failure;
    Atomics.store(c, OP, OPS.indexOf(op));
    Atomics.store(c, ITERATIONS, iterations);
    const command = Atomics.add(c, COMMAND, 1) + 1;
    Atomics.notify(c, COMMAND);
    const started = performance.now();
    for (;;) {
      if (this.#failure) throw this.#failure;
      // Snapshot DONE before reading the ACKs: an acknowledgement after the read bumps DONE
      // past the snapshot, so the wait below returns at once instead of missing it.
      const done = Atomics.load(c, DONE);
      if (this.#workers.every((_, i) => Atomics.load(c, ACK + i) === command)) return;
      const r = Atomics.waitAsync(c, DONE, done, 1_000);
      if ((r.async ? await Promise.race([r.value, this.#failed]) : r.value) === 'timed-out' && performance.now() - started > ROUND_LIMIT_MS) {
        const acks = this.#workers.map((_, i) => Atomics.load(c, ACK + i)).join(', ');
        throw new Error(`gang round ${command} of ${op} did not finish within ${ROUND_LIMIT_MS / 1000} s (workers acknowledged ${acks})`);
      }
    }
  }

  /** Stops and joins every worker. */
  async close(): Promise<void> {
    this.#closing = true;
    Atomics.store(this.#control, COMMAND, STOP);
    Atomics.notify(this.#control, COMMAND);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
