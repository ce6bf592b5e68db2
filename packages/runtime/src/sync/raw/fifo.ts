/**
 * Raw FIFO ticket queue: the fairness half of the Semaphore and the ResourcePool.
 *
 * | word       | meaning                                                                   |
 * | ---------- | ------------------------------------------------------------------------- |
 * | NEXT       | next ticket to hand out                                                   |
 * | HEAD       | the ticket allowed to take now; NEXT === HEAD means nobody queues          |
 * | SEQ        | bumped whenever HEAD moves or the guarded counters grow; waiters park on it |
 * | RING[0..R) | ABANDONED at `ticket % R` when that ticket's waiter gave up before its turn  |
 *
 * A waiter takes a ticket and waits until HEAD reaches it; only the head may take from the
 * counters, so a large request is not starved by small ones arriving after it. A waiter that
 * times out while not at the head leaves an ABANDONED mark; whoever moves HEAD onto a marked
 * ticket skips it. Clearing a mark is a compare-exchange, so exactly one thread skips each ticket.
 * At most R tickets are out at once; further waiters park until one returns (still bounded).
 *
 * Tickets are Int32 and wrap; they are only compared for equality or subtracted with `| 0`.
 */
import * as atomics from '../../shared/atomics.js';
import { Park } from '../../shared/wait.js';

export const NEXT = 0;
export const HEAD = 1;
export const SEQ = 2;
const RING = 3;
/** Tickets that can be out at once. */
export const RING_SLOTS = 64;
/** Int32 words a queue occupies. */
export const QUEUE_WORDS = RING + RING_SLOTS;

const ABANDONED = 1;

/** Whether no ticket is waiting (the fast path may take without queueing). */
export function isEmpty(view: Int32Array, base: number): boolean {
  return atomics.load(view, base + NEXT) === atomics.load(view, base + HEAD);
}

/** Takes a ticket, or says where to park while all RING_SLOTS tickets are out. */
export function enqueueStep(view: Int32Array, base: number): number | Park {
  for (;;) {
    const seq = atomics.load(view, base + SEQ);
    const next = atomics.load(view, base + NEXT);
    if (((next - atomics.load(view, base + HEAD)) | 0) >= RING_SLOTS) return new Park(view, base + SEQ, seq);
    if (atomics.compareExchange(view, base + NEXT, next, (next + 1) | 0) === next) return next;
  }
}

/** Whether `ticket` is at the head of the queue. */
export function isHead(view: Int32Array, base: number, ticket: number): boolean {
  return atomics.load(view, base + HEAD) === ticket;
}

/** The SEQ value to park on before checking the condition. */
export function sequence(view: Int32Array, base: number): number {
  return atomics.load(view, base + SEQ);
}

/** The head took what it wanted: pass the turn on and wake the queue. */
export function advance(view: Int32Array, base: number, ticket: number): void {
  atomics.compareExchange(view, base + HEAD, ticket, (ticket + 1) | 0);
  skipAbandoned(view, base);
  wakeAll(view, base);
}

/** A waiter gives up its ticket (timeout, abort); the queue goes on without it. */
export function abandon(view: Int32Array, base: number, ticket: number): void {
  const slot = base + RING + (ticket & (RING_SLOTS - 1));
  atomics.store(view, slot, ABANDONED);
  // If the turn already reached this ticket, nobody else will look at the mark: skip it here.
  if (atomics.load(view, base + HEAD) === ticket && atomics.compareExchange(view, slot, ABANDONED, 0) === ABANDONED) {
    advance(view, base, ticket);
  }
}

/**
 * Counters grew (a release): let the head look again. Skipped when nobody queues: a waiter
 * that takes a ticket after this check reads the counters after the release, so it cannot
 * miss it (all operations are sequentially consistent).
 */
export function wakeQueue(view: Int32Array, base: number): void {
  if (!isEmpty(view, base)) wakeAll(view, base);
}

/** Moves SEQ and wakes every parked waiter. */
export function wakeAll(view: Int32Array, base: number): void {
  atomics.add(view, base + SEQ, 1);
  atomics.notify(view, base + SEQ);
}

function skipAbandoned(view: Int32Array, base: number): void {
  for (;;) {
    const head = atomics.load(view, base + HEAD);
    if (head === atomics.load(view, base + NEXT)) return;
    const slot = base + RING + (head & (RING_SLOTS - 1));
    if (atomics.compareExchange(view, slot, ABANDONED, 0) !== ABANDONED) return;
    atomics.compareExchange(view, base + HEAD, head, (head + 1) | 0);
  }
}
