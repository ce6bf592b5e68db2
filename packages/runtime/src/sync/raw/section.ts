/**
 * Raw robust critical section: a robust mutex word plus an undo log, so that a thread that
 * dies half-way through changing several words leaves no half-done change behind.
 *
 * | word                | meaning                                             | written by             |
 * | ------------------- | --------------------------------------------------- | ---------------------- |
 * | LOCK                | robust mutex word (`raw/mutex.ts`)                  | enterers, thread death |
 * | LOG_LENGTH          | undo entries of the section in progress; 0 outside | the section's holder   |
 * | LOG_SLOTS           | entries the log has room for                       | the creator, once      |
 * | LOG + 2i, LOG + 2i+1 | entry i: word index changed, and its old value    | the section's holder   |
 *
 * Inside a section every change goes through {@link write}, which logs the word's old value
 * before storing the new one. {@link commit} (LOG_LENGTH = 0, one store) makes the changes so
 * far permanent. If the holder dies inside, the lock word becomes OWNER_DIED (the dead thread's
 * watcher marks it, as for any Mutex) and whoever enters next undoes the logged changes in
 * reverse order before doing anything else: a section is all or nothing even against
 * `worker.terminate()` at any instruction. A holder dying while it writes an entry is safe:
 * the entry counts only once LOG_LENGTH covers it, and the word is stored only after that.
 *
 * A section never waits inside: its holder changes a few words and leaves, so waiting to
 * enter is short unless the holder was descheduled or died.
 */
import * as atomics from '../../shared/atomics.js';
import { CapacityError } from '../../shared/errors.js';
import { Park } from '../../shared/wait.js';
import * as mutex from './mutex.js';

export const LOCK = 0;
const LOG_LENGTH = 1;
const LOG_SLOTS = 2;
const LOG = 3;

/** Int32 words of a section whose critical sections change at most `entries` words. */
export function sectionWords(entries: number): number {
  return LOG + 2 * entries;
}

/** Sets up fresh (zeroed) section memory for up to `entries` changes per critical section. */
export function initSection(view: Int32Array, base: number, entries: number): void {
  atomics.store(view, base + LOG_SLOTS, entries);
}

/** Entered: `ENTERED`, or `RECOVERED` when a dead holder's half-done change was undone first. */
export const ENTERED = 1;
export const RECOVERED = 2;

/** Undoes a dead holder's logged changes, newest first. Caller holds the lock. */
function rollBack(view: Int32Array, base: number): void {
  for (let i = atomics.load(view, base + LOG_LENGTH) - 1; i >= 0; i--) {
    atomics.store(view, atomics.load(view, base + LOG + 2 * i), atomics.load(view, base + LOG + 2 * i + 1));
  }
  atomics.store(view, base + LOG_LENGTH, 0);
}

/** Enters if the section is free, without waiting: ENTERED, RECOVERED, or 0. */
export function tryEnter(view: Int32Array, base: number, token: number): number {
  const r = mutex.tryLock(view, base + LOCK, token);
  if (r === mutex.ACQUIRED) return ENTERED;
  if (r !== mutex.ACQUIRED_OWNER_DIED) return 0;
  rollBack(view, base);
  return RECOVERED;
}

/**
 * One step of entering: ENTERED, RECOVERED, or where to park until the holder leaves. Takes
 * the lock marked CONTENDED (mutex2's rule): a thread woken from parking here may have others
 * parked behind it, and only a CONTENDED word makes its leave wake the next.
 */
export function enterStep(view: Int32Array, base: number, token: number): number | Park {
  const r = mutex.lockStep(view, base + LOCK, token);
  if (r === mutex.ACQUIRED) return ENTERED;
  if (r !== mutex.ACQUIRED_OWNER_DIED) return new Park(view, base + LOCK, r);
  rollBack(view, base);
  return RECOVERED;
}

/**
 * Logs `view[index]`'s old value, then stores `value`. Caller holds the section.
 *
 * Plain stores, not Atomics: only the holder touches these words while it holds the section,
 * its lock's compare-exchanges order them for the next holder, and a killed thread loses no
 * store it executed. What matters against death is program order: the entry is written, then
 * covered by LOG_LENGTH, and only then is the word changed.
 */
export function write(view: Int32Array, base: number, index: number, value: number): void {
  const n = view[base + LOG_LENGTH]!;
  if (n >= view[base + LOG_SLOTS]!) {
    throw new CapacityError(`a critical section changed more than ${n} words; this is a bug in Tributary, please report it`);
  }
  view[base + LOG + 2 * n] = index;
  view[base + LOG + 2 * n + 1] = view[index]!;
  view[base + LOG_LENGTH] = n + 1;
  view[index] = value;
}

/** Makes the changes so far permanent (the section stays held). A plain store, as in {@link write}. */
export function commit(view: Int32Array, base: number): void {
  view[base + LOG_LENGTH] = 0;
}

/** Commits and leaves. */
export function leave(view: Int32Array, base: number, token: number): void {
  if (view[base + LOG_LENGTH] !== 0) commit(view, base);
  // The unlock's compare-exchange publishes every change above to the next holder.
  mutex.unlock(view, base + LOCK, token);
}
