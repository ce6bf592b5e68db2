/**
 * Raw robust futex mutex: one Int32 word, pure functions, no allocation on the fast path.
 *
 * | bits  | field      | meaning                                                         |
 * | ----- | ---------- | --------------------------------------------------------------- |
 * | 0-28  | OWNER      | token of the holding thread (`threadId + 1`); 0 when free       |
 * | 29    | OWNER_DIED | free, and the last holder died holding it (EOWNERDEAD)          |
 * | 30    | CONTENDED  | somebody may be parked on the word: unlock must notify          |
 *
 * States: `0` free; `OWNER_DIED` free after a dead holder; `token` held, nobody parked;
 * `token | CONTENDED` held, waiters may be parked. This is Drepper's three-state mutex
 * ("Futexes Are Tricky", mutex2) with the owner kept in the word so a dead holder can be found.
 *
 * Memory consistency: every transition is a sequentially consistent Atomics operation, so
 * writes made before `unlock` are visible to the thread whose `lock` returns next.
 */
import * as atomics from '../../shared/atomics.js';
import { NotOwnerError } from '../../shared/errors.js';
import { MAX_TOKEN } from '../../shared/thread.js';

export const FREE = 0;
export const OWNER_MASK = MAX_TOKEN;
export const OWNER_DIED = 1 << 29;
export const CONTENDED = 1 << 30;

/** Results of an acquire attempt (negative: no word value is negative). */
export const ACQUIRED = -1;
export const ACQUIRED_OWNER_DIED = -2;

/** Fast path: take a free lock. Returns ACQUIRED, ACQUIRED_OWNER_DIED, or the word seen. */
export function tryLock(view: Int32Array, index: number, token: number): number {
  const seen = atomics.compareExchange(view, index, FREE, token);
  if (seen === FREE) return ACQUIRED;
  if (seen === OWNER_DIED && atomics.compareExchange(view, index, OWNER_DIED, token) === OWNER_DIED) {
    return ACQUIRED_OWNER_DIED;
  }
  return seen;
}

/**
 * Slow path, one step: take the lock, or mark it contended and return the word to park on.
 * A thread that got here may have sleepers behind it, so it takes the lock as CONTENDED
 * (pessimistic, as mutex2 does): at worst one needless notify at unlock.
 */
export function lockStep(view: Int32Array, index: number, token: number): number {
  for (;;) {
    const seen = atomics.load(view, index);
    if (seen === FREE || seen === OWNER_DIED) {
      if (atomics.compareExchange(view, index, seen, token | CONTENDED) === seen) {
        return seen === FREE ? ACQUIRED : ACQUIRED_OWNER_DIED;
      }
      continue;
    }
    if ((seen & CONTENDED) !== 0) return seen;
    // Set CONTENDED before parking so the holder's unlock knows to notify; if the word moved
    // meanwhile, look again rather than park on a stale value.
    if (atomics.compareExchange(view, index, seen, seen | CONTENDED) === seen) return seen | CONTENDED;
  }
}

/** The owner token in a word (0 when free). */
export function ownerOf(word: number): number {
  return word & OWNER_MASK;
}

/**
 * Releases a lock held by `token`.
 * @throws NotOwnerError when `token` does not hold it.
 */
export function unlock(view: Int32Array, index: number, token: number): void {
  // Fast path: held, nobody parked. A CAS, not a store: it must fail if CONTENDED was set.
  const seen = atomics.compareExchange(view, index, token, FREE);
  if (seen === token) return;
  if (ownerOf(seen) !== token || (seen & OWNER_DIED) !== 0) {
    throw new NotOwnerError(
      `unlock by a thread that does not hold the mutex (word ${seen.toString(16)}): unlock only through the guard lock() returned`,
    );
  }
  // Only the owner changes a held word's owner, so a plain store is enough; others may only
  // have set CONTENDED, which this store clears together with the release.
  atomics.store(view, index, FREE);
  atomics.notify(view, index, 1);
}

/**
 * Marks a lock held by the dead thread `deadToken` as OWNER_DIED and wakes one waiter.
 * Returns whether the lock was that thread's.
 */
export function markOwnerDied(view: Int32Array, index: number, deadToken: number): boolean {
  for (;;) {
    const seen = atomics.load(view, index);
    if (ownerOf(seen) !== deadToken || (seen & OWNER_DIED) !== 0) return false;
    if (atomics.compareExchange(view, index, seen, OWNER_DIED) === seen) {
      atomics.notify(view, index, 1);
      return true;
    }
  }
}
