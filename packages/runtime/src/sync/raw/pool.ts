/**
 * Raw robust pool ledger: D counters taken all or nothing, a FIFO ticket queue, and a holder
 * table, every change made inside a robust section (`raw/section.ts`) so a thread that dies at
 * any instruction leaves the ledger whole. The Semaphore is the one-dimension case.
 *
 * | word (from base)      | meaning                                                | written by              |
 * | --------------------- | ------------------------------------------------------ | ----------------------- |
 * | DIMS                  | D, resources per request                               | the creator, once       |
 * | HOLDERS               | H, rows of the holder table                            | the creator, once       |
 * | SEQ                   | bumped after each change that may let a waiter in      | anyone, after leaving   |
 * | FLAGS                 | OWNER_DIED: a holder died; the next acquirer is told   | section: recovery, taker |
 * | HEAD                  | the ticket allowed to take now; HEAD === NEXT: no queue | section                |
 * | NEXT                  | next ticket to hand out                                | section                 |
 * | SECTION..             | the robust section (lock word and undo log)            | see `raw/section.ts`    |
 * | RING + t % R          | token of ticket t's waiter; ABANDONED once it left     | section                 |
 * | AVAILABLE + d         | free amount of resource d                              | section                 |
 * | CAPACITY + d          | total of resource d                                    | the creator, once       |
 * | ROWS + r(1+D)         | holder row r: its thread token (0: free row) ...       | section                 |
 * | ROWS + r(1+D) + 1 + d | ... and the amount of resource d it holds              | section                 |
 *
 * Invariant, at every commit: AVAILABLE[d] + the sum of the rows' HELD[d] = CAPACITY[d].
 *
 * A waiter takes a ticket (its token in the ring) and waits until HEAD reaches it; only the
 * head may take, so a large request is not starved by small ones. A waiter that gives up, or
 * whose thread dies, is marked ABANDONED and skipped. A dead holder's amounts go back to
 * AVAILABLE and OWNER_DIED is set, so the next acquirer knows the data it guards may be torn.
 *
 * Waiters park on SEQ (read before they look) or on the section's lock word while it is held.
 */
import * as atomics from '../../shared/atomics.js';
import * as section from './section.js';

const DIMS = 0;
const HOLDERS = 1;
/** Word index, from base, of the change-sequence word waiters park on (`raw/changes.ts`). */
export const SEQ = 2;
const FLAGS = 3;
const HEAD = 4;
const NEXT = 5;
/** Word index, from base, of the pool's section. */
export const SECTION = 6;

/** Tickets that can be out at once; further waiters park until one returns (still bounded). */
export const RING_SLOTS = 64;
const ABANDONED = 1 << 30; // above every token (29 bits)
const OWNER_DIED = 1;

/** Word offsets of one ledger shape (D resources, H holder rows). */
export interface PoolLayout {
  readonly dims: number;
  readonly holders: number;
  readonly ring: number;
  readonly available: number;
  readonly capacity: number;
  readonly rows: number;
  readonly words: number;
}

function logEntries(dims: number): number {
  // The longest commit: a take that fills a row (2D + token) and moves the queue (ring, head, flags).
  return 2 * dims + 6;
}

/** The layout for `dims` resources and `holders` holder rows. */
export function layoutOf(dims: number, holders: number): PoolLayout {
  const ring = SECTION + section.sectionWords(logEntries(dims));
  const available = ring + RING_SLOTS;
  const capacity = available + dims;
  const rows = capacity + dims;
  return { dims, holders, ring, available, capacity, rows, words: rows + holders * (1 + dims) };
}

/** Reads the layout of an existing ledger from its header. */
export function layoutAt(view: Int32Array, base: number): PoolLayout {
  return layoutOf(atomics.load(view, base + DIMS), atomics.load(view, base + HOLDERS));
}

/** Writes a fresh ledger (zeroed memory) with these totals, all free. */
export function init(view: Int32Array, base: number, layout: PoolLayout, totals: readonly number[]): void {
  atomics.store(view, base + DIMS, layout.dims);
  atomics.store(view, base + HOLDERS, layout.holders);
  section.initSection(view, base + SECTION, logEntries(layout.dims));
  totals.forEach((t, d) => {
    atomics.store(view, base + layout.available + d, t);
    atomics.store(view, base + layout.capacity + d, t);
  });
}

/** Results of a take (non-negative: taken; see {@link takenRow} and {@link takenOwnerDied}). */
export const NOT_NOW = -1;
/** Every holder row is in use by another thread. */
export const NO_ROW = -2;

/** The holder row a successful take used (-1 for an all-zero request). */
export function takenRow(result: number): number {
  return (result >> 1) - 1;
}

/** Whether a successful take was the first since a holder died. */
export function takenOwnerDied(result: number): boolean {
  return (result & 1) !== 0;
}

function rowAt(layout: PoolLayout, base: number, r: number): number {
  return base + layout.rows + r * (1 + layout.dims);
}

/** The row of `token` (trying `hint` first), or -1. */
export function findRow(view: Int32Array, base: number, layout: PoolLayout, token: number, hint = -1): number {
  if (hint >= 0 && hint < layout.holders && atomics.load(view, rowAt(layout, base, hint)) === token) return hint;
  for (let r = 0; r < layout.holders; r++) if (atomics.load(view, rowAt(layout, base, r)) === token) return r;
  return -1;
}

/**
 * The row to record a take of `token` in: its own, or a free one. The hint (the row this
 * thread used last) is tried first, even when free again: a thread's rows only ever change
 * through its own takes, so a free hint row means it holds none (and should it hold one
 * through another view of the same pool, two rows of one thread are harmless: releases and
 * repairs look at every row of a token).
 */
function rowFor(view: Int32Array, base: number, layout: PoolLayout, token: number, hint: number): number {
  if (hint >= 0 && hint < layout.holders) {
    const owner = atomics.load(view, rowAt(layout, base, hint));
    if (owner === token || owner === 0) return hint;
  }
  const own = findRow(view, base, layout, token);
  return own >= 0 ? own : findRow(view, base, layout, 0);
}

/**
 * Inside the section: takes `amounts` for `token` if it may now (its `ticket` is the head, or
 * with `ticket` -1 nobody queues) and all of it is free. Commits on success.
 */
export function takeInside(
  view: Int32Array, base: number, layout: PoolLayout, token: number, amounts: readonly number[], ticket: number, hint: number,
): number {
  const sb = base + SECTION;
  skipAbandoned(view, base, layout);
  const head = atomics.load(view, base + HEAD);
  if (ticket === -1 ? head !== atomics.load(view, base + NEXT) : head !== ticket) return NOT_NOW;
  let any = false;
  for (let d = 0; d < layout.dims; d++) {
    if (amounts[d]! > atomics.load(view, base + layout.available + d)) return NOT_NOW;
    if (amounts[d]! > 0) any = true;
  }
  let row = -1;
  if (any) {
    row = rowFor(view, base, layout, token, hint);
    if (row < 0) return NO_ROW;
    const at = rowAt(layout, base, row);
    section.write(view, sb, at, token);
    for (let d = 0; d < layout.dims; d++) {
      const a = amounts[d]!;
      if (a === 0) continue;
      section.write(view, sb, base + layout.available + d, atomics.load(view, base + layout.available + d) - a);
      section.write(view, sb, at + 1 + d, atomics.load(view, at + 1 + d) + a);
    }
  }
  if (ticket !== -1) {
    section.write(view, sb, base + layout.ring + (ticket & (RING_SLOTS - 1)), 0);
    section.write(view, sb, base + HEAD, (ticket + 1) | 0);
  }
  const died = (atomics.load(view, base + FLAGS) & OWNER_DIED) !== 0;
  if (died) section.write(view, sb, base + FLAGS, 0);
  section.commit(view, sb);
  return ((row + 1) << 1) | (died ? 1 : 0);
}

/** Inside the section: takes a ticket for `token`, or -1 while RING_SLOTS tickets are out. */
export function enqueueInside(view: Int32Array, base: number, layout: PoolLayout, token: number): number {
  const next = atomics.load(view, base + NEXT);
  if (((next - atomics.load(view, base + HEAD)) | 0) >= RING_SLOTS) return -1;
  section.write(view, base + SECTION, base + layout.ring + (next & (RING_SLOTS - 1)), token);
  section.write(view, base + SECTION, base + NEXT, (next + 1) | 0);
  section.commit(view, base + SECTION);
  return next;
}

/** Inside the section: the waiter of `ticket` leaves the queue (timeout, abort, death). */
export function abandonInside(view: Int32Array, base: number, layout: PoolLayout, ticket: number): void {
  section.write(view, base + SECTION, base + layout.ring + (ticket & (RING_SLOTS - 1)), ABANDONED);
  section.commit(view, base + SECTION);
  skipAbandoned(view, base, layout);
}

/** Moves HEAD past abandoned tickets, one commit per ticket (each step leaves a whole ledger). */
function skipAbandoned(view: Int32Array, base: number, layout: PoolLayout): void {
  for (;;) {
    const head = atomics.load(view, base + HEAD);
    if (head === atomics.load(view, base + NEXT)) return;
    const slot = base + layout.ring + (head & (RING_SLOTS - 1));
    if (atomics.load(view, slot) !== ABANDONED) return;
    section.write(view, base + SECTION, slot, 0);
    section.write(view, base + SECTION, base + HEAD, (head + 1) | 0);
    section.commit(view, base + SECTION);
  }
}

/**
 * Inside the section: gives `amounts` back on behalf of `token`, from its own row first, then
 * from the other rows in table order (a release by another thread than the taker). Returns
 * the first resource that more would be released of than is held, changing nothing; else -1.
 */
export function giveInside(
  view: Int32Array, base: number, layout: PoolLayout, token: number, amounts: readonly number[], hint: number,
): number {
  for (let d = 0; d < layout.dims; d++) {
    const held = atomics.load(view, base + layout.capacity + d) - atomics.load(view, base + layout.available + d);
    if (amounts[d]! > held) return d;
  }
  const left = amounts.slice();
  const own = findRow(view, base, layout, token, hint);
  let remaining = own >= 0 ? giveFromRow(view, base, layout, own, left) : 1;
  for (let r = 0; r < layout.holders && remaining > 0; r++) {
    if (r !== own && atomics.load(view, rowAt(layout, base, r)) !== 0) remaining = giveFromRow(view, base, layout, r, left);
  }
  return -1;
}

/**
 * Moves up to `left` from row `r` back to AVAILABLE (one commit); frees the row once empty.
 * Returns how much is still left to give, over all resources.
 */
function giveFromRow(view: Int32Array, base: number, layout: PoolLayout, r: number, left: number[]): number {
  const sb = base + SECTION;
  const at = rowAt(layout, base, r);
  let remaining = 0;
  for (let d = 0; d < layout.dims; d++) {
    const held = atomics.load(view, at + 1 + d);
    const give = Math.min(held, left[d]!);
    remaining += held - give;
    if (give === 0) continue;
    left[d]! -= give;
    section.write(view, sb, at + 1 + d, held - give);
    section.write(view, sb, base + layout.available + d, atomics.load(view, base + layout.available + d) + give);
  }
  if (remaining === 0) section.write(view, sb, at, 0);
  section.commit(view, sb);
  let still = 0;
  for (let d = 0; d < layout.dims; d++) still += left[d]!;
  return still;
}

/**
 * Inside the section: drops everything the dead thread `dead` had: its queued tickets are
 * abandoned, its rows' amounts return to AVAILABLE, and OWNER_DIED is set if it held any.
 * Returns how many tickets and rows it dropped.
 */
export function recoverInside(view: Int32Array, base: number, layout: PoolLayout, dead: number): number {
  let dropped = 0;
  const head = atomics.load(view, base + HEAD);
  const out = (atomics.load(view, base + NEXT) - head) | 0;
  for (let i = 0; i < out; i++) {
    const ticket = (head + i) | 0;
    if (atomics.load(view, base + layout.ring + (ticket & (RING_SLOTS - 1))) !== dead) continue;
    abandonInside(view, base, layout, ticket);
    dropped++;
  }
  for (let r = 0; r < layout.holders; r++) {
    if (atomics.load(view, rowAt(layout, base, r)) !== dead) continue;
    section.write(view, base + SECTION, base + FLAGS, atomics.load(view, base + FLAGS) | OWNER_DIED);
    giveFromRow(view, base, layout, r, Array.from({ length: layout.dims }, () => Infinity));
    dropped++;
  }
  return dropped;
}

/** Whether anyone queues (a change must wake them). */
export function hasQueue(view: Int32Array, base: number): boolean {
  return atomics.load(view, base + HEAD) !== atomics.load(view, base + NEXT);
}

/** Free amount of resource `d` now (a snapshot). */
export function available(view: Int32Array, base: number, layout: PoolLayout, d: number): number {
  return atomics.load(view, base + layout.available + d);
}

/** Total of resource `d`. */
export function capacity(view: Int32Array, base: number, layout: PoolLayout, d: number): number {
  return atomics.load(view, base + layout.capacity + d);
}
