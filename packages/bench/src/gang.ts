/**
 * A gang of long-lived benchmark workers that run rounds of one operation on command, so
 * contended benchmarks time the operation and not thread start-up.
 *
 * Control words (Int32): COMMAND (bumped per round; STOP ends the workers), OP (index into the
 * worker's op table), ITERATIONS (per worker per round), DONE (workers finished this round).
 */
import { Worker } from 'node:worker_threads';

export const COMMAND = 0;
export const OP = 1;
export const ITERATIONS = 2;
export const DONE = 3;
export const STOP = -1;
/** How long a worker waits for the next command before it decides it was abandoned. */
export const IDLE_LIMIT_MS = 60_000;

/** The operations a gang worker knows, by index. */
export const OPS = ['mutex', 'raw-mutex', 'barrier', 'raw-barrier', 'semaphore', 'raw-semaphore', 'rwlock-write', 'counter', 'raw-counter'] as const;
export type GangOp = (typeof OPS)[number];

/** What every gang worker receives. */
export interface GangData {
  readonly control: SharedArrayBuffer;
  readonly shared: Record<string, unknown>;
  readonly parties: number;
  /** The TypeScript module the bootstrap (`ts-worker.mjs`) loads. */
  readonly entry: string;
}

/** Workers that run `op` x `iterations` together each time {@link Gang.round} is called. */
export class Gang {
  readonly #control = new Int32Array(new SharedArrayBuffer(16));
  readonly #workers: Worker[];
  #failure: Error | undefined;

  constructor(size: number, shared: Record<string, unknown>) {
    const workerData: GangData = {
      control: this.#control.buffer as SharedArrayBuffer,
      shared,
      parties: size,
      entry: new URL('./gang-worker.ts', import.meta.url).href,
    };
    this.#workers = Array.from({ length: size }, () => {
      const w = new Worker(new URL('./ts-worker.mjs', import.meta.url), { workerData });
      w.on('error', (e) => {
        this.#failure ??= e;
      });
      return w;
    });
  }

  /** Runs one round on every worker and resolves when all are done. */
  async round(op: GangOp, iterations: number): Promise<void> {
    const c = this.#control;
    Atomics.store(c, OP, OPS.indexOf(op));
    Atomics.store(c, ITERATIONS, iterations);
    Atomics.store(c, DONE, 0);
    const started = performance.now();
    Atomics.add(c, COMMAND, 1);
    Atomics.notify(c, COMMAND);
    for (;;) {
      if (this.#failure) throw this.#failure;
      const done = Atomics.load(c, DONE);
      if (done === this.#workers.length) return;
      const r = Atomics.waitAsync(c, DONE, done, 1_000);
      if ((await r.value) === 'timed-out' && performance.now() - started > 30_000) {
        throw new Error(`gang round of ${op} did not finish within 30 s`);
      }
    }
  }

  /** Stops and joins every worker. */
  async close(): Promise<void> {
    Atomics.store(this.#control, COMMAND, STOP);
    Atomics.notify(this.#control, COMMAND);
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}
