/**
 * The barrier's waiter table: which thread is inside which generation, so the watcher of a
 * dead thread can tell whether it was a party waiting (or arriving) at the barrier. It lives
 * in a buffer of its own (sized by the party count), so the barrier's region stays two words.
 *
 * | word        | meaning                                                         | written by           |
 * | ----------- | --------------------------------------------------------------- | -------------------- |
 * | SLOTS       | slots in the table                                              | the creator, once    |
 * | 1 + 2k      | slot k: token of the party using it; 0 free                     | the party; watcher   |
 * | 2 + 2k      | slot k: generation (low 29 bits) << 2, PENDING or ARRIVED bits  | the party; arrivers  |
 *
 * PENDING: the party is about to arrive in that generation. ARRIVED: its arrival counted
 * (set by the party itself, or by the next arrival that overwrote its LAST tag: helping).
 */
import * as atomics from '../../shared/atomics.js';

const SLOTS = 0;
const PENDING = 1;
const ARRIVED = 2;
/** Generation bits a slot keeps (compared after masking). */
export const GEN_MASK = (1 << 29) - 1;

/** Int32 words of a table of `slots` slots. */
export function wordsFor(slots: number): number {
  return 1 + 2 * slots;
}

/** Writes a fresh table. */
export function init(table: Int32Array, slots: number): void {
  atomics.store(table, SLOTS, slots);
}

/** Slots in the table. */
export function slotsOf(table: Int32Array): number {
  return atomics.load(table, SLOTS);
}

/** Claims a free slot for `token`; -1 when all are in use (the party then waits untracked). */
export function claim(table: Int32Array, token: number): number {
  const slots = slotsOf(table);
  for (let k = 0; k < slots; k++) {
    if (atomics.compareExchange(table, 1 + 2 * k, 0, token) === 0) return k;
  }
  return -1;
}

/** Frees slot `k` (the party left the barrier, or its thread died). */
export function free(table: Int32Array, k: number): void {
  if (k < 0) return;
  // State first: a slot whose token reads 0 is reusable at once.
  atomics.store(table, 2 + 2 * k, 0);
  atomics.store(table, 1 + 2 * k, 0);
}

/** Marks slot `k` as about to arrive in `generation`. */
export function markPending(table: Int32Array, k: number, generation: bigint): void {
  atomics.store(table, 2 + 2 * k, (Number(generation & BigInt(GEN_MASK)) << 2) | PENDING);
}

/** Marks slot `k`'s pending arrival in `generation` as counted (idempotent; only from PENDING). */
export function confirm(table: Int32Array, k: number, generation: bigint): void {
  const pending = (Number(generation & BigInt(GEN_MASK)) << 2) | PENDING;
  atomics.compareExchange(table, 2 + 2 * k, pending, (pending & ~PENDING) | ARRIVED);
}

/** Token of the party in slot `k`. */
export function tokenAt(table: Int32Array, k: number): number {
  return atomics.load(table, 1 + 2 * k);
}

/** Whether slot `k` is arriving or has arrived in some generation. */
export function hasArrival(table: Int32Array, k: number): boolean {
  return (atomics.load(table, 2 + 2 * k) & (PENDING | ARRIVED)) !== 0;
}

/** Slot `k`'s generation (low bits) and whether its arrival is confirmed. */
export function stateAt(table: Int32Array, k: number): { generation: number; arrived: boolean } {
  const v = atomics.load(table, 2 + 2 * k);
  return { generation: v >>> 2, arrived: (v & ARRIVED) !== 0 };
}
