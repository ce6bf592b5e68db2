/**
 * A change-sequence word, the parking spot of waiters that look at several words: a waiter
 * reads it, looks (inside a robust section), and parks on the value it read; whoever changes
 * something a waiter may want bumps it after leaving the section, so a change between the look
 * and the park makes the park return at once (no lost wake-up).
 */
import * as atomics from '../../shared/atomics.js';
import { Park } from '../../shared/wait.js';

/** The value to park on, read before looking. */
export function read(view: Int32Array, index: number): number {
  return atomics.load(view, index);
}

/** Where to park until the next change, given the value read before looking. */
export function parkUntilChange(view: Int32Array, index: number, seen: number): Park {
  return new Park(view, index, seen);
}

/** Announces a change and wakes every parked waiter. */
export function bump(view: Int32Array, index: number): void {
  atomics.add(view, index, 1);
  atomics.notify(view, index);
}
