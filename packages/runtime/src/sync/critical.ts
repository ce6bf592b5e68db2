/**
 * Entering a robust section (`raw/section.ts`) from the typed layer: blocking in workers,
 * asynchronously anywhere, and by bounded spinning where the main thread must finish a call
 * synchronously (a release). Also the repair a dead thread's watcher runs on a section's data.
 */
import { now } from '../shared/clock.js';
import { TimeoutError } from '../shared/errors.js';
import { currentToken, onMainThread } from '../shared/thread.js';
import { HANDOFF_SPINS, Park, startWait, untilAsync, untilSync } from '../shared/wait.js';
import * as mutex from './raw/mutex.js';
import * as section from './raw/section.js';

/**
 * Longest a synchronous call waits to enter. Sections are a few stores long, so only a holder
 * that was descheduled for that long, or died and is not yet reported, can keep one longer.
 */
const ENTER_BOUND_MS = 10_000;
/** The main thread spins (it may not block); its bound is shorter. */
const MAIN_SPIN_MS = 1_000;

/**
 * Enters the section at `base` now, waiting if it is held (workers block; the main thread
 * spins, since the holder is only ever a few stores from leaving).
 * @throws TimeoutError when it stays held beyond the bound (see {@link ENTER_BOUND_MS}).
 */
export function enterSync(view: Int32Array, base: number, what: string): number {
  const r = section.tryEnter(view, base, currentToken);
  if (r !== 0) return r;
  if (!onMainThread) {
    const ctx = startWait(what, { timeoutMs: ENTER_BOUND_MS });
    return untilSync(ctx, () => section.enterStep(view, base, currentToken), undefined, HANDOFF_SPINS);
  }
  const deadline = now() + MAIN_SPIN_MS;
  for (;;) {
    const again = section.tryEnter(view, base, currentToken);
    if (again !== 0) return again;
    if (now() > deadline) {
      throw new TimeoutError(
        `${what}: another thread held the primitive's internal section for over ${MAIN_SPIN_MS} ms ` +
          `(descheduled, or it died and its exit is not yet reported); await a turn of the event loop and retry`,
      );
    }
  }
}

/**
 * Entering step by step inside a wait loop: uncontended first (no notify owed at leave), but
 * after parking on the lock word always through {@link section.enterStep}, whose CONTENDED
 * mark makes this thread's leave wake whoever parked behind it.
 */
export class Entry {
  #parked = false;

  /** ENTERED, RECOVERED, or where to park. */
  step(view: Int32Array, base: number): number | Park {
    if (!this.#parked) {
      const fast = section.tryEnter(view, base, currentToken);
      if (fast !== 0) return fast;
    }
    const r = section.enterStep(view, base, currentToken);
    this.#parked = r instanceof Park;
    return r;
  }
}

/** Enters without blocking the event loop. */
export function enterAsync(view: Int32Array, base: number, what: string): Promise<number> {
  return untilAsync(startWait(what, { timeoutMs: ENTER_BOUND_MS }), () => section.enterStep(view, base, currentToken));
}

/**
 * Runs `repair` inside the section at `base` on behalf of the dead thread `dead`: first frees
 * the section if `dead` died inside it (the next entry rolls its change back), then enters.
 * If a live thread holds the section, the repair runs as soon as it leaves (asynchronously),
 * so a watcher's exit handler never waits on another thread. Returns what `repair` returned,
 * or 0 when it was deferred.
 */
export function repairInside(view: Int32Array, base: number, dead: number, repair: () => number, after: () => void): number {
  mutex.markOwnerDied(view, base + section.LOCK, dead);
  const run = (): number => {
    try {
      return repair();
    } finally {
      section.leave(view, base, currentToken);
      after();
    }
  };
  if (section.tryEnter(view, base, currentToken) !== 0) return run();
  void enterAsync(view, base, 'thread-death repair').then(run, () => {
    // Held for ENTER_BOUND_MS by a live thread: nothing sane is left to repair against.
  });
  return 0;
}
