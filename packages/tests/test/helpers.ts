/** Test helpers: run real worker threads from fixtures and wait for them with a deadline. */
import { Worker } from 'node:worker_threads';
import { afterEach } from 'vitest';
import type { StreamSpec } from '@tributary/runtime';

/** URL of a fixture in ../fixtures. */
export function fixture(name: string): URL {
  return new URL(`../fixtures/${name}`, import.meta.url);
}

/** Starts a worker on a fixture with `workerData`. */
export function startWorker(name: string, workerData: unknown): Worker {
  return new Worker(fixture(name), { workerData });
}

/** Resolves with the worker's first message; rejects on error, early exit or after `timeoutMs`. */
export function firstMessage<T>(worker: Worker, timeoutMs = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker sent no message within ${timeoutMs} ms`)), timeoutMs);
    const done = (): void => clearTimeout(timer);
    worker.once('message', (m: T) => {
      done();
      resolve(m);
    });
    worker.once('error', (e) => {
      done();
      reject(e);
    });
    worker.once('exit', (code) => {
      done();
      reject(new Error(`worker exited with code ${code} before sending a message`));
    });
  });
}

/** Runs a fixture to its first message. */
export async function runWorker<T>(name: string, workerData: unknown, timeoutMs?: number): Promise<T> {
  const worker = startWorker(name, workerData);
  try {
    return await firstMessage<T>(worker, timeoutMs);
  } finally {
    await worker.terminate();
  }
}

/** Runs `count` copies of a fixture in parallel; each gets `{ ...data, index }`. */
export function runWorkers<T>(name: string, count: number, data: object, timeoutMs?: number): Promise<T[]> {
  return Promise.all(Array.from({ length: count }, (_, index) => runWorker<T>(name, { ...data, index }, timeoutMs)));
}

/** Path of a stream module fixture. */
export function streamModule(name: string): string {
  return fixture(`streams/${name}`).pathname;
}

/** `parties` streams (ids `r{round}-b{i}`) that meet at their run's barrier twice, for the chaos tests. */
export function barrierParties(round: number, parties: number): StreamSpec[] {
  const slots = new SharedArrayBuffer(4 * Math.max(1, parties));
  return Array.from({ length: parties }, (_, i) => ({
    id: `r${round}-b${i}`,
    task: streamModule('barrier-rounds.mjs'),
    input: { slots, index: i, parties, rounds: 2, timeoutMs: 5_000 },
  }));
}

/** Something with an async close (a coordinator, an agent, a lock manager). */
export interface Closable {
  close(): Promise<void>;
}

/**
 * Closes whatever the returned `track` function was given, after each test, so a failing
 * test cannot leave threads running into the next one.
 */
export function closeAfterEach(): <T extends Closable>(value: T) => T {
  let open: Closable[] = [];
  afterEach(async () => {
    const closing = open;
    open = [];
    await Promise.all(closing.map((c) => c.close()));
  });
  return (value) => {
    open.push(value);
    return value;
  };
}
