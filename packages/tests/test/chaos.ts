/**
 * The chaos harness: seeded randomness (replay a failure with CHAOS_SEED=<seed>), watched
 * workers on a fixture, and a loop that terminates random busy workers and starts replacements.
 */
import { once } from 'node:events';
import type { Worker } from 'node:worker_threads';
import { watchWorker } from '@tributary/runtime';
import { startWorker } from './helpers.js';

/** ctl words shared with fixtures/chaos-worker.mjs. */
export const CTL = { STOP: 0, COMPLETED: 1, REPAIRS: 2, TORN: 3, X: 4, Y: 5, PROGRESS: 8 } as const;

/** The seed for this test: CHAOS_SEED from the environment, or the test's fixed default. */
export function seedFor(fallback: number): number {
  const fromEnv = process.env.CHAOS_SEED;
  return fromEnv === undefined ? fallback : Number(fromEnv);
}

/** mulberry32: a small, seedable PRNG; returns floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `body` and, if it fails, says which seed replays it. */
export async function withSeed(seed: number, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const e = error as Error;
    e.message = `${e.message}\n  chaos seed ${seed}: replay with CHAOS_SEED=${seed}`;
    throw error;
  }
}

/** Resolves once `condition()` holds; rejects after `timeoutMs` (nothing here may hang). */
export async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A chaos-worker.mjs worker in slot `slot`, watched, with its exit and message as promises. */
export interface Member {
  readonly slot: number;
  readonly worker: Worker;
  readonly result: Promise<unknown>;
  /** Resolves once the thread has exited (and its watcher has run the recovery). */
  readonly exited: Promise<unknown>;
}

/** Starts a watched chaos worker. */
export function member(data: Record<string, unknown> & { slot: number }): Member {
  const worker = startWorker('chaos-worker.mjs', data);
  watchWorker(worker);
  // Listened for from the start: a worker may finish and exit before anyone kills it.
  const exited = once(worker, 'exit');
  const result = new Promise<unknown>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', () => resolve('killed'));
  });
  return { slot: data.slot, worker, result, exited };
}

/** Terminates `m` and resolves once its exit (and so its recovery) has happened. */
export async function kill(m: Member): Promise<void> {
  await m.worker.terminate();
  await m.exited;
}

/**
 * Until `kills` workers were killed: every few ms (random), terminates a random worker that has
 * made progress (so it is mid-loop, not starting) and starts a replacement in its slot.
 * @throws after `boundMs` (a machine too slow to start workers fails loudly, not silently).
 */
export async function chaosLoop(
  members: Member[], ctl: Int32Array, random: () => number, kills: number, start: (slot: number) => Member, boundMs = 15_000,
): Promise<number> {
  let killed = 0;
  const end = Date.now() + boundMs;
  while (killed < kills) {
    if (Date.now() > end) throw new Error(`only ${killed} of ${kills} kills within ${boundMs} ms`);
    await new Promise((r) => setTimeout(r, 5 + Math.floor(random() * 40)));
    const busy = members.filter((m) => Atomics.load(ctl, CTL.PROGRESS + m.slot) > 0);
    if (busy.length === 0) continue;
    const victim = busy[Math.floor(random() * busy.length)]!;
    await kill(victim);
    killed++;
    Atomics.store(ctl, CTL.PROGRESS + victim.slot, 0);
    members[members.indexOf(victim)] = start(victim.slot);
  }
  return killed;
}
