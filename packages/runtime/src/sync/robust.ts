/**
 * Robust bookkeeping: which shared structures this thread knows, so that when a thread dies
 * holding, waiting in or registered with one, the thread that watched it die can repair it
 * (mark a Mutex OWNER_DIED, return a dead holder's permits, drop its queue tickets, break a
 * barrier it was waiting at).
 *
 * JavaScript runs nothing inside a dying thread, so the thread that owns a `Worker` reports its
 * death ({@link watchWorker}). It can only repair structures it knows: every robust primitive
 * constructed or rebuilt from a handle in this thread registers its repair here. A structure a
 * worker made and never shared with the watching thread is not repaired (nobody else can be
 * waiting on it anyway).
 */
import type { Worker } from 'node:worker_threads';
import { tokenOf } from '../shared/thread.js';
import { markOwnerDied } from './raw/mutex.js';

// Keyed by buffer: one arena holds many structures; each is known by the word index (into an
// Int32Array over the buffer) of its first word, with the repair to run there. Buffers are held weakly: every message that carries a handle makes a new wrapper object
// for the same memory, so a long-lived worker would otherwise keep one entry per task. A lock
// this thread holds keeps its buffer reachable through the guard, so nothing held is forgotten.
/**
 * Repairs the structure at `view[index]` after the death of the thread whose token is `dead`;
 * returns how many holdings, tickets or registrations of that thread it dropped.
 */
export type Repair = (view: Int32Array, index: number, dead: number) => number;

interface Known {
  readonly buffer: WeakRef<SharedArrayBuffer>;
  readonly words: Map<number, Repair>;
}
const known = new Set<Known>();
const byBuffer = new WeakMap<SharedArrayBuffer, Known>();
const forget = new FinalizationRegistry<Known>((entry) => known.delete(entry));
// Entries registered since beginLockScope(): a worker's task, whose buffers arrive as new
// wrappers with every task and must not pile up between garbage collections.
let scope: Known[] | undefined;

/** Remembers a robust Mutex word (idempotent). */
export function registerRobustWord(buffer: SharedArrayBuffer, wordIndex: number): void {
  registerRepair(buffer, wordIndex, markMutex);
}

function markMutex(view: Int32Array, index: number, dead: number): number {
  return markOwnerDied(view, index, dead) ? 1 : 0;
}

/** Remembers a robust structure starting at `wordIndex` and how to repair it (idempotent). */
export function registerRepair(buffer: SharedArrayBuffer, wordIndex: number, repair: Repair): void {
  let entry = byBuffer.get(buffer);
  if (entry === undefined) {
    entry = { buffer: new WeakRef(buffer), words: new Map() };
    byBuffer.set(buffer, entry);
    known.add(entry);
    forget.register(buffer, entry);
    scope?.push(entry);
  }
  entry.words.set(wordIndex, repair);
}

/** Starts collecting the lock words this thread registers (a worker starting a task). */
export function beginLockScope(): void {
  scope = [];
}

/**
 * Ends the scope: marks every lock registered in it that this thread (`threadId`) still holds
 * as owner-died, as if the thread had ended, and forgets the scope's words. Returns how many
 * locks it released.
 */
export function endLockScope(threadId: number): number {
  const entries = scope ?? [];
  scope = undefined;
  for (const entry of entries) known.delete(entry);
  return markHeldBy(entries, tokenOf(threadId));
}

/** Repairs every structure in `entries` for the dead thread `token`; returns how much it dropped. */
function markHeldBy(entries: Iterable<Known>, token: number): number {
  let marked = 0;
  for (const entry of entries) {
    const buffer = entry.buffer.deref();
    if (buffer === undefined) continue;
    const view = new Int32Array(buffer);
    for (const [index, repair] of entry.words) marked += repair(view, index, token);
  }
  return marked;
}

/** Frees what a dead thread held in some other lock structure; returns how many it freed. */
export type RecoveryHook = (deadToken: number, threadId: number) => number;
const hooks = new Set<RecoveryHook>();

/**
 * Adds a structure (a file-lock table, say) to what {@link recoverLocksOf} repairs when a
 * thread dies. Returns a function that removes it.
 */
export function onThreadDeath(hook: RecoveryHook): () => void {
  hooks.add(hook);
  return () => hooks.delete(hook);
}

/**
 * Marks every known lock still held by thread `threadId` as owner-died and wakes a waiter on
 * each, and runs the {@link onThreadDeath} hooks. Call it once that thread is gone. Returns how
 * many locks it recovered.
 */
export function recoverLocksOf(threadId: number): number {
  const dead = tokenOf(threadId);
  let recovered = 0;
  for (const hook of hooks) recovered += hook(dead, threadId);
  return recovered + markHeldBy(known, dead);
}

/**
 * Recovers the locks `worker` holds when it exits (returns normally, throws, or is terminated):
 * the next `lock()` on each succeeds with `ownerDied === true`. Returns a function that stops watching.
 */
export function watchWorker(worker: Worker): () => void {
  // Captured now: worker.threadId reads -1 once the thread has exited.
  const id = worker.threadId;
  const onExit = (): void => {
    recoverLocksOf(id);
  };
  worker.once('exit', onExit);
  return () => worker.off('exit', onExit);
}
