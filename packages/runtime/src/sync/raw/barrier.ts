/**
 * Raw cyclic barrier: one BigInt64 word holds the whole state, so arriving, tripping, breaking
 * and resetting are each one compare-exchange and can never be seen half done.
 *
 * | bits  | field      | meaning                                                            |
 * | ----- | ---------- | ------------------------------------------------------------------ |
 * | 0-19  | COUNT      | parties inside this generation (arrived, and not yet departed)     |
 * | 20    | BROKEN     | this generation is broken: waiters depart with BrokenBarrierError  |
 * | 21    | RESET      | a reset is pending: once COUNT drains to 0, a fresh generation starts |
 * | 22-31 | LAST       | waiter-table slot + 1 of the latest arrival (0: none, or untracked) |
 * | 32-62 | GENERATION | trips so far (31 bits: no wrap in practice)                          |
 *
 * Every word is written by the parties themselves with compare-exchange; a dead party's
 * watcher writes it too, through {@link recoverDead}. Who is inside is kept in the waiter
 * table (`raw/barrier-waiters.ts`); LAST ties an arrival to its slot so a watcher can tell
 * whether a party that died while arriving had arrived.
 *
 * The last party to arrive trips the barrier by moving to the next generation with COUNT 0 in
 * the same compare-exchange; waiters park on the word and leave when the generation differs
 * from the one they arrived in. A broken generation never changes until every party that was
 * inside has departed, so a waiter can always tell a trip from a break.
 */
import * as atomics from '../../shared/atomics.js';
import { BrokenBarrierError } from '../../shared/errors.js';
import { Park } from '../../shared/wait.js';
import * as waiters from './barrier-waiters.js';

export const STATE = 0;
export const PARTIES = 1;
export const WORDS = 2;

const COUNT_MASK = (1n << 20n) - 1n;
export const BROKEN = 1n << 20n;
const RESET = 1n << 21n;
const LAST_SHIFT = 22n;
const LAST_MASK = ((1n << 10n) - 1n) << LAST_SHIFT;
/** Waiter-table slots LAST can name. */
export const MAX_SLOTS = 1023;
const GEN_SHIFT = 32n;
const GEN_ONE = 1n << GEN_SHIFT;
/** The most parties a barrier can have. */
export const MAX_PARTIES = Number(COUNT_MASK);

/** COUNT of a state word. */
export function countOf(s: bigint): number {
  return Number(s & COUNT_MASK);
}

/** GENERATION of a state word. */
export function generationOf(s: bigint): bigint {
  return s >> GEN_SHIFT;
}

function fresh(s: bigint): bigint {
  return (generationOf(s) + 1n) << GEN_SHIFT;
}

/** An arrival: which generation it joined and whether it tripped the barrier. */
export interface Arrival {
  readonly generation: bigint;
  readonly last: boolean;
}

function brokenError(): BrokenBarrierError {
  return new BrokenBarrierError(
    'the barrier is broken (a party timed out, was aborted or failed, or break() was called); call reset() to use it again',
  );
}

/** LAST of a state word: slot + 1 of the latest arrival, 0 for none. */
function lastOf(s: bigint): number {
  return Number((s & LAST_MASK) >> LAST_SHIFT);
}

/**
 * One step of arriving: an {@link Arrival}, or where to park while a reset drains. `slot` is
 * this party's waiter-table slot (-1: untracked). Before its compare-exchange it marks the slot
 * PENDING in the generation it joins, and confirms the previous arrival's slot (helping), so
 * LAST plus the slots always tell whether a party that died here had arrived.
 */
export function arriveStep(view: BigInt64Array, table: Int32Array, slot: number): Arrival | Park {
  const parties = BigInt(atomics.load(view, PARTIES));
  for (;;) {
    const s = atomics.load(view, STATE);
    if ((s & BROKEN) !== 0n) {
      if ((s & RESET) === 0n) throw brokenError();
      if (countOf(s) !== 0) return new Park(view, STATE, s);
      atomics.compareExchange(view, STATE, s, fresh(s));
      continue;
    }
    const generation = generationOf(s);
    if (slot >= 0) waiters.markPending(table, slot, generation);
    const last = lastOf(s);
    // The arrival before ours is overwritten now: confirm it first (see recoverDead).
    if (last !== 0) waiters.confirm(table, last - 1, generation);
    const count = BigInt(countOf(s)) + 1n;
    const trips = count >= parties;
    const tag = BigInt(slot + 1) << LAST_SHIFT;
    const next = trips ? fresh(s) : ((s & ~LAST_MASK) | tag) + 1n;
    if (atomics.compareExchange(view, STATE, s, next) !== s) continue;
    if (slot >= 0) waiters.confirm(table, slot, generation);
    if (trips) {
      atomics.notify(view, STATE);
      return { generation, last: true };
    }
    // A party may have deregistered between our read of PARTIES and our arrival: if the
    // arrivals now suffice, trip here (tryTrip's compare-exchange lets only one thread do it).
    return { generation, last: tryTrip(view, generation) };
  }
}

/**
 * Repairs the barrier after the death of the thread `dead`: a party of the current generation
 * that had arrived (or was arriving and had arrived, by LAST) breaks it and departs, as a
 * timed-out waiter does; one that died before its arrival counted, or a registered party
 * between waits, breaks it without departing. Either way the live waiters get BrokenBarrierError: a dead party is never an
 * arrival that lets the others pass. Frees the dead thread's slots; returns how many it had.
 */
export function recoverDead(view: BigInt64Array, table: Int32Array, dead: number): number {
  let found = 0;
  for (let slot = 0; slot < waiters.slotsOf(table); slot++) {
    if (waiters.tokenAt(table, slot) !== dead) continue;
    found++;
    const { generation, arrived, registered } = waiters.stateAt(table, slot);
    breakFor(view, waiters.hasArrival(table, slot) ? generation : -1, slot, arrived, registered);
    waiters.free(table, slot);
  }
  return found;
}

/**
 * Breaks the current generation for a dead party: one arriving or waiting in `generation`
 * (-1: none), or a registered one (which the current round can never have without it).
 */
function breakFor(view: BigInt64Array, generation: number, slot: number, confirmed: boolean, registered: boolean): void {
  for (;;) {
    const s = atomics.load(view, STATE);
    const inside = Number(generationOf(s) & BigInt(waiters.GEN_MASK)) === generation;
    // Not inside the current round and not registered: it tripped or was reset; it passed.
    if (!inside && !registered) return;
    const arrived = inside && (confirmed || lastOf(s) === slot + 1);
    if ((s & BROKEN) !== 0n) {
      if (arrived) depart(view, generationOf(s));
      return;
    }
    const next = arrived ? (s | BROKEN) - 1n : s | BROKEN;
    if (atomics.compareExchange(view, STATE, s, next) === s) {
      atomics.notify(view, STATE);
      return;
    }
  }
}

/**
 * Trips `generation` if it is unbroken, has arrivals, and they reach PARTIES. Returns whether
 * this call tripped it.
 */
function tryTrip(view: BigInt64Array, generation: bigint): boolean {
  for (;;) {
    const s = atomics.load(view, STATE);
    const count = countOf(s);
    if (generationOf(s) !== generation || (s & BROKEN) !== 0n || count === 0) return false;
    if (BigInt(count) < atomics.load(view, PARTIES)) return false;
    if (atomics.compareExchange(view, STATE, s, fresh(s)) === s) {
      atomics.notify(view, STATE);
      return true;
    }
  }
}

/**
 * Removes one party for good (Phaser's arriveAndDeregister without the arrival): the barrier
 * now trips with one party fewer, and trips at once if the waiters already suffice.
 */
export function deregister(view: BigInt64Array): void {
  for (;;) {
    const p = atomics.load(view, PARTIES);
    if (p <= 1n) {
      // The last party leaving: nobody can ever trip it again; break it so no one waits.
      breakBarrier(view, false);
      return;
    }
    if (atomics.compareExchange(view, PARTIES, p, p - 1n) === p) break;
  }
  tryTrip(view, generationOf(atomics.load(view, STATE)));
}

/** One step of waiting in `generation`: done, or where to park. Throws once it is broken. */
export function awaitStep(view: BigInt64Array, generation: bigint): true | Park {
  const s = atomics.load(view, STATE);
  if (generationOf(s) !== generation) return true;
  if ((s & BROKEN) !== 0n) {
    depart(view, generation);
    throw brokenError();
  }
  return new Park(view, STATE, s);
}

/**
 * A waiter of `generation` gives up: breaks the generation (all-or-none) and departs.
 * Returns true when the barrier tripped first (the waiter passed after all).
 */
export function giveUp(view: BigInt64Array, generation: bigint): boolean {
  for (;;) {
    const s = atomics.load(view, STATE);
    if (generationOf(s) !== generation) return true;
    if ((s & BROKEN) !== 0n) {
      depart(view, generation);
      return false;
    }
    if (atomics.compareExchange(view, STATE, s, (s | BROKEN) - 1n) === s) {
      atomics.notify(view, STATE);
      return false;
    }
  }
}

/** Breaks the current generation; its waiters depart with BrokenBarrierError. */
export function breakBarrier(view: BigInt64Array, reset: boolean): void {
  for (;;) {
    const s = atomics.load(view, STATE);
    let next = s | BROKEN | (reset ? RESET : 0n);
    // Nobody inside: a reset can start the fresh generation at once.
    if (reset && countOf(s) === 0) next = fresh(s);
    if (atomics.compareExchange(view, STATE, s, next) === s) {
      atomics.notify(view, STATE);
      return;
    }
  }
}

function depart(view: BigInt64Array, generation: bigint): void {
  for (;;) {
    const s = atomics.load(view, STATE);
    if (generationOf(s) !== generation || countOf(s) === 0) return;
    let next = s - 1n;
    // The last to leave a broken generation with a reset pending starts the fresh one.
    if ((s & RESET) !== 0n && countOf(next) === 0) next = fresh(s);
    if (atomics.compareExchange(view, STATE, s, next) === s) {
      atomics.notify(view, STATE);
      return;
    }
  }
}
