/**
 * Raw writer-preferring reader/writer lock over three Int32 words.
 *
 * | word            | meaning                                                              |
 * | --------------- | -------------------------------------------------------------------- |
 * | STATE           | readers holding it (bits 0-29), or WRITER bit 30 with the writer's token |
 * | WRITERS_WAITING | writers parked or about to park; while > 0 new readers wait            |
 * | SEQ             | bumped on every release that may let someone in; everybody parks on it |
 *
 * Waiters read SEQ, then check STATE, then park on the SEQ value they read: a release between
 * the check and the park changes SEQ, so the park returns at once (no lost wake-up).
 *
 * Fairness: a waiting writer blocks new readers, so a stream of readers cannot starve it;
 * writers are preferred over readers that arrive while they wait.
 */
import * as atomics from '../../shared/atomics.js';
import { NotOwnerError } from '../../shared/errors.js';
import { Park } from '../../shared/wait.js';
import { MAX_TOKEN } from '../../shared/thread.js';

export const STATE = 0;
export const WRITERS_WAITING = 1;
export const SEQ = 2;
export const WORDS = 3;

export const WRITER = 1 << 30;
const READERS_MASK = WRITER - 1;

/** Takes a read lock if no writer holds or waits for it. */
export function tryRead(view: Int32Array): boolean {
  for (;;) {
    const s = atomics.load(view, STATE);
    if ((s & WRITER) !== 0 || atomics.load(view, WRITERS_WAITING) !== 0) return false;
    if (atomics.compareExchange(view, STATE, s, s + 1) === s) return true;
  }
}

/** One step of a blocking read: `true`, or where to park. */
export function readStep(view: Int32Array): true | Park {
  const seq = atomics.load(view, SEQ);
  return tryRead(view) || new Park(view, SEQ, seq);
}

/** Takes the write lock if nobody holds the lock. */
export function tryWrite(view: Int32Array, token: number): boolean {
  return atomics.compareExchange(view, STATE, 0, WRITER | (token & MAX_TOKEN)) === 0;
}

/** Announces a waiting writer (new readers hold back from now on). */
export function announceWriter(view: Int32Array): void {
  atomics.add(view, WRITERS_WAITING, 1);
}

/** Withdraws an announced writer, after it got the lock or gave up. */
export function withdrawWriter(view: Int32Array, gaveUp: boolean): void {
  atomics.sub(view, WRITERS_WAITING, 1);
  // Readers held back by this writer may enter now that it is not coming.
  if (gaveUp) bump(view);
}

/** One step of a blocking write by an announced writer: `true`, or where to park. */
export function writeStep(view: Int32Array, token: number): true | Park {
  const seq = atomics.load(view, SEQ);
  return tryWrite(view, token) || new Park(view, SEQ, seq);
}

/** Releases one read lock. */
export function readUnlock(view: Int32Array): void {
  for (;;) {
    const s = atomics.load(view, STATE);
    if ((s & WRITER) !== 0 || (s & READERS_MASK) === 0) {
      throw new NotOwnerError('RwLock read unlock without a read lock held: unlock only through its guard');
    }
    if (atomics.compareExchange(view, STATE, s, s - 1) !== s) continue;
    // Only writers wait for readers to drain, and only when the last reader leaves.
    if (s === 1 && atomics.load(view, WRITERS_WAITING) !== 0) bump(view);
    return;
  }
}

/** Releases the write lock held by `token`. */
export function writeUnlock(view: Int32Array, token: number): void {
  if (atomics.compareExchange(view, STATE, WRITER | (token & MAX_TOKEN), 0) !== (WRITER | (token & MAX_TOKEN))) {
    throw new NotOwnerError('RwLock write unlock by a thread that does not hold the write lock');
  }
  bump(view);
}

/** Whether the calling thread (by token) holds the write lock. */
export function isWriter(view: Int32Array, token: number): boolean {
  return atomics.load(view, STATE) === (WRITER | (token & MAX_TOKEN));
}

function bump(view: Int32Array): void {
  atomics.add(view, SEQ, 1);
  atomics.notify(view, SEQ);
}
