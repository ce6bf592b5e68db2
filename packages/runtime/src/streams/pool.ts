/**
 * The Piscina pool streams run on, with every worker thread watched: when a thread exits
 * (finished, crashed, or terminated to cancel or restart a stream), the locks it still held
 * are marked owner-died, so the next holder gets them instead of waiting forever.
 */
import type { ResourceLimits, Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { PISCINA_ENTRY } from '../shared/piscina-entry-url.js';
import { watchWorker } from '../sync/robust.js';
import type { StreamWorkerData } from './task.js';

/** Pool sizing and what each thread is started with. */
export interface PoolOptions {
  readonly maxThreads: number;
  readonly minThreads: number;
  readonly idleTimeoutMs: number;
  readonly resourceLimits: ResourceLimits | undefined;
  readonly env: Readonly<Record<string, string>> | undefined;
  readonly execArgv: readonly string[] | undefined;
  /** What every thread starts with: the coordinator-wide handles. */
  readonly workerData: StreamWorkerData;
  /** Hears of each thread by its id as it starts and once it has exited (the run slab's bookkeeping). */
  readonly threads?: { started(threadId: number): void; exited(threadId: number): void };
}

/** A Piscina pool running the stream worker entry, with owner-death recovery and thread bookkeeping wired in. */
export function createStreamPool(options: PoolOptions): Piscina {
  const pool = new Piscina({
    filename: PISCINA_ENTRY,
    maxThreads: options.maxThreads,
    minThreads: options.minThreads,
    idleTimeout: options.idleTimeoutMs,
    workerData: { ...options.workerData, entry: new URL('./worker.js', import.meta.url).href },
    ...(options.resourceLimits === undefined ? {} : { resourceLimits: options.resourceLimits }),
    ...(options.env === undefined ? {} : { env: { ...options.env } }),
    ...(options.execArgv === undefined ? {} : { execArgv: [...options.execArgv] }),
  });
  const watched = new WeakSet<Worker>();
  const watchAll = (): void => {
    for (const worker of pool.threads) {
      if (watched.has(worker)) continue;
      watched.add(worker);
      watchWorker(worker);
      // Captured now: worker.threadId reads -1 once the thread has exited.
      const id = worker.threadId;
      options.threads?.started(id);
      worker.once('exit', () => options.threads?.exited(id));
    }
  };
  watchAll();
  pool.on('workerCreate', watchAll);
  // Piscina emits 'error' for a thread that dies with no task in flight (a finished stream's
  // leftover timer that throws): with no listener that would crash the caller's process. Nothing
  // is lost then: no attempt ran there, its locks come back through the exit watch above, and
  // the pool starts a replacement.
  pool.on('error', () => {});
  return pool;
}
