/**
 * The barrier's waiter table: which thread is inside which generation, so the watcher of a
 * dead thread can tell whether it was a party waiting (or arriving) at the barrier. It lives
 * in a region of its own (sized by the party count; in the barrier's arena when it has one),
 * so the barrier's region stays two words.
 *
 * | word        | meaning                                                         | written by           |
 * | ----------- | --------------------------------------------------------------- | -------------------- |
 * | SLOTS       | slots in the table                                              | the creator, once    |
 * | 1 + 2k      | slot k: token of the party using it; 0 free                     | the party; watcher   |
 * | 2 + 2k      | slot k: generation (low 28 bits) << 3, REGISTERED, ARRIVED, PENDING | the party; arrivers |
 *
 * PENDING: the party is about to arrive in that generation. ARRIVED: its arrival counted
 * (set by the party itself, or by the next arrival that overwrote its LAST tag: helping).
 * REGISTERED: the thread is a party until it unregisters; its death breaks the barrier even
 * while it is not waiting.
 */
import * as atomics from '../../shared/atomics.js';

const SLOTS = 0;
const PENDING = 1;
const ARRIVED = 2;
const REGISTERED = 4;
const GEN_SHIFT = 3;
/** Generation bits a slot keeps (compared after masking). */
export const GEN_MASK = (1 << 28) - 1;

/** Int32 words of a table of `slots` slots. */
export function wordsFor(slots: number): number {
  return 1 + 2 * slots;
}

/** Writes a fresh table. */
export function init(table: Int32Array, slots: number): void {
  atomics.store(table, SLOTS, slots);
}

/** Int32 words of the table that starts at `byteOffset` of `buffer` (read from its SLOTS word). */
export function wordsIn(buffer: SharedArrayBuffer, byteOffset: number): number {
  return wordsFor(atomics.load(new Int32Array(buffer, byteOffset, 1), SLOTS));
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

/** Frees slot `k` (the party's thread died, or it unregistered). */
export function free(table: Int32Array, k: number): void {
  if (k < 0) return;
  // State first: a slot whose token reads 0 is reusable at once.
  atomics.store(table, 2 + 2 * k, 0);
  atomics.store(table, 1 + 2 * k, 0);
}

/** The party in slot `k` left a wait: frees the slot, or keeps only its registration. */
export function leaveWait(table: Int32Array, k: number): void {
  if (k < 0) return;
  if (isRegistered(table, k)) atomics.store(table, 2 + 2 * k, REGISTERED);
  else free(table, k);
}

/** Makes slot `k` a registration: kept between waits until {@link free}. */
export function markRegistered(table: Int32Array, k: number): void {
  atomics.store(table, 2 + 2 * k, REGISTERED);
}

/** Whether slot `k` is a registration. */
export function isRegistered(table: Int32Array, k: number): boolean {
  return (atomics.load(table, 2 + 2 * k) & REGISTERED) !== 0;
}

/** Marks slot `k` as about to arrive in `generation` (keeping its registration). */
export function markPending(table: Int32Array, k: number, generation: bigint): void {
  const registered = atomics.load(table, 2 + 2 * k) & REGISTERED;
  atomics.store(table, 2 + 2 * k, (Number(generation & BigInt(GEN_MASK)) << GEN_SHIFT) | registered | PENDING);
}

/** Marks slot `k`'s pending arrival in `generation` as counted (idempotent; only from PENDING). */
export function confirm(table: Int32Array, k: number, generation: bigint): void {
  const w = atomics.load(table, 2 + 2 * k);
  if ((w & PENDING) === 0 || w >>> GEN_SHIFT !== Number(generation & BigInt(GEN_MASK))) return;
  atomics.compareExchange(table, 2 + 2 * k, w, (w & ~PENDING) | ARRIVED);
}

/** Token of the party in slot `k`. */
export function tokenAt(table: Int32Array, k: number): number {
  return atomics.load(table, 1 + 2 * k);
}

/** Whether slot `k` is arriving or has arrived in some generation. */
export function hasArrival(table: Int32Array, k: number): boolean {
  return (atomics.load(table, 2 + 2 * k) & (PENDING | ARRIVED)) !== 0;
}

/** Slot `k`'s generation (low bits), whether its arrival is confirmed, whether it is registered. */
export function stateAt(table: Int32Array, k: number): { generation: number; arrived: boolean; registered: boolean } {
  const v = atomics.load(table, 2 + 2 * k);
  return { generation: v >>> GEN_SHIFT, arrived: (v & ARRIVED) !== 0, registered: (v & REGISTERED) !== 0 };
}
