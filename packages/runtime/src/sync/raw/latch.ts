/**
 * Raw countdown latch with registered counters: pure functions over Int32 words.
 *
 * | word          | meaning                                                        | written by                |
 * | ------------- | -------------------------------------------------------------- | ------------------------- |
 * | COUNT         | count-downs still needed (bits 0-29); BROKEN (bit 30)           | counters; a dead one's watcher |
 * | SLOTS         | rows of the counter table                                       | the creator, once         |
 * | ROWS + 2r     | row r: token of a registered counter thread; 0 free            | that thread; its watcher  |
 * | ROWS + 2r + 1 | row r: count-downs that thread still owes                      | that thread; its watcher  |
 *
 * Waiters park on COUNT until it reads 0 (open) or BROKEN: a registered counter died owing
 * count-downs, so the latch can never open by them, and waiters learn it at once instead of
 * waiting out their timeout. A registered thread counts down first and pays its debt second,
 * so one dying between the two breaks the latch at worst needlessly, never silently.
 */
import * as atomics from '../../shared/atomics.js';
import { Park } from '../../shared/wait.js';

export const COUNT = 0;
const SLOTS = 1;
const ROWS = 2;
export const BROKEN = 1 << 30;
/** The largest count a latch can start from. */
export const MAX_COUNT = BROKEN - 1;

/** Int32 words of a latch with `slots` counter rows. */
export function wordsFor(slots: number): number {
  return ROWS + 2 * slots;
}

/** Writes a fresh latch (zeroed memory). */
export function init(view: Int32Array, count: number, slots: number): void {
  atomics.store(view, SLOTS, slots);
  atomics.store(view, COUNT, count);
}

/** Counter rows of an existing latch. */
export function slotsAt(view: Int32Array): number {
  return atomics.load(view, SLOTS);
}

/**
 * Counts down by `n`, waking every waiter at zero. Returns the count seen when `n` exceeds
 * it (nothing changed), `undefined` on success.
 */
export function countDown(view: Int32Array, n: number): number | undefined {
  for (;;) {
    const word = atomics.load(view, COUNT);
    const c = word & MAX_COUNT;
    if (n > c) return c;
    if (atomics.compareExchange(view, COUNT, word, word - n) !== word) continue;
    // Only the count-down that reaches zero wakes: earlier ones change nothing a waiter needs.
    if (c === n) atomics.notify(view, COUNT);
    return undefined;
  }
}

/** One step of waiting: open (true), broken (false), or where to park. */
export function waitStep(view: Int32Array): boolean | Park {
  const word = atomics.load(view, COUNT);
  if ((word & BROKEN) !== 0) return false;
  return word === 0 || new Park(view, COUNT, word);
}

/** Registers `token` as owing `n` count-downs; returns its row, or -1 when the table is full. */
export function register(view: Int32Array, token: number, n: number): number {
  const slots = slotsAt(view);
  let row = -1;
  for (let r = 0; r < slots && row < 0; r++) if (atomics.load(view, ROWS + 2 * r) === token) row = r;
  for (let r = 0; r < slots && row < 0; r++) if (atomics.compareExchange(view, ROWS + 2 * r, 0, token) === 0) row = r;
  if (row >= 0) atomics.add(view, ROWS + 2 * row + 1, n);
  return row;
}

/** Pays up to `n` of `token`'s debt after a count-down (no-op for an unregistered thread). */
export function pay(view: Int32Array, token: number, n: number): void {
  const slots = slotsAt(view);
  for (let r = 0; r < slots; r++) {
    if (atomics.load(view, ROWS + 2 * r) !== token) continue;
    const owed = atomics.load(view, ROWS + 2 * r + 1);
    if (owed > n) {
      atomics.store(view, ROWS + 2 * r + 1, owed - n);
    } else {
      atomics.store(view, ROWS + 2 * r + 1, 0);
      atomics.store(view, ROWS + 2 * r, 0);
    }
    return;
  }
}

/**
 * The thread `dead` is gone: if it still owed count-downs and the latch is not open, breaks it
 * and wakes every waiter. Frees its row; returns 1 if it had one.
 */
export function recoverDead(view: Int32Array, base: number, dead: number): number {
  const slots = atomics.load(view, base + SLOTS);
  for (let r = 0; r < slots; r++) {
    const at = base + ROWS + 2 * r;
    if (atomics.load(view, at) !== dead) continue;
    if (atomics.load(view, at + 1) > 0) {
      for (;;) {
        const word = atomics.load(view, base + COUNT);
        if (word === 0 || (word & BROKEN) !== 0) break;
        if (atomics.compareExchange(view, base + COUNT, word, word | BROKEN) === word) {
          atomics.notify(view, base + COUNT);
          break;
        }
      }
    }
    atomics.store(view, at + 1, 0);
    atomics.store(view, at, 0);
    return 1;
  }
  return 0;
}
