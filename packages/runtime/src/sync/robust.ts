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
// The words registered since beginLockScope() (a worker's task), by entry. A task's buffers
// mostly arrive as new wrappers with every task, and their entries must not pile up between
// garbage collections; a buffer the thread keeps (its workerData: the coordinator's services,
// the run slab) holds the structures of many tasks, of which the scope names only its own.
let scope: Map<Known, Set<number>> | undefined;

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
    forget.register(buffer, entry);
  }
  known.add(entry);
  entry.words.set(wordIndex, repair);
  if (scope === undefined) return;
  let words = scope.get(entry);
  if (words === undefined) scope.set(entry, (words = new Set()));
  words.add(wordIndex);
}

/** Starts collecting the lock words this thread registers (a worker starting a task). */
export function beginLockScope(): void {
  scope = new Map();
}

/**
 * Ends the scope: marks every lock registered in it that this thread (`threadId`) still holds
 * as owner-died, as if the thread had ended, and forgets the scope's words. Returns how many
 * locks it released.
 */
export function endLockScope(threadId: number): number {
  const registered = scope ?? new Map<Known, Set<number>>();
  scope = undefined;
  const token = tokenOf(threadId);
  let marked = 0;
  for (const [entry, words] of registered) {
    known.delete(entry);
    marked += repair(entry, words, token);
  }
  return marked;
}

/** Repairs every structure in `entries` for the dead thread `token`; returns how much it dropped. */
function markHeldBy(entries: Iterable<Known>, token: number): number {
  let marked = 0;
  for (const entry of entries) marked += repair(entry, entry.words.keys(), token);
  return marked;
}

/** Repairs the structures of `entry` at `words` for the dead thread `token`. */
function repair(entry: Known, words: Iterable<number>, token: number): number {
  const buffer = entry.buffer.deref();
  if (buffer === undefined) return 0;
  const view = new Int32Array(buffer);
  let marked = 0;
  for (const index of words) marked += entry.words.get(index)?.(view, index, token) ?? 0;
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
