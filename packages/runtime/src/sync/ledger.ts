/**
 * The typed side of the raw pool ledger (`raw/pool.ts`), written once for the Semaphore (one
 * resource) and the ResourcePool (several): fast path, FIFO waiting (blocking and async),
 * release, and the repair a dead thread's watcher runs.
 */
import { CapacityError } from '../shared/errors.js';
import { currentToken } from '../shared/thread.js';
import { Park, untilAsync, untilSync, HANDOFF_SPINS, type WaitContext } from '../shared/wait.js';
import { enterSync, Entry, repairInside } from './critical.js';
import * as changes from './raw/changes.js';
import * as raw from './raw/pool.js';
import * as section from './raw/section.js';
import { registerRepair } from './robust.js';

/** Default rows of a holder table: threads that may hold permits or resources at once. */
export const DEFAULT_MAX_HOLDERS = 64;
/** The most rows a holder table may have. */
export const MAX_HOLDERS = 4096;

const SECTION = raw.SECTION;

/** One ledger seen from this thread: its view (base 0), layout, and this thread's row hint. */
export class Ledger {
  readonly view: Int32Array;
  readonly layout: raw.PoolLayout;
  readonly #what: string;
  #hint = -1;

  /** Wraps ledger memory; registers its repair with the thread-death path. */
  constructor(view: Int32Array, layout: raw.PoolLayout, buffer: SharedArrayBuffer, byteOffset: number, what: string) {
    this.view = view;
    this.layout = layout;
    this.#what = what;
    registerRepair(buffer, byteOffset / 4, repair);
  }

  /** Takes `amounts` if free and nobody queues. Returns the raw result (see `raw.takeInside`) or NOT_NOW. */
  tryTake(amounts: readonly number[]): number {
    const view = this.view;
    // Waiting to enter is not waiting for permits: the section's holder is a few stores from leaving.
    enterSync(view, SECTION, `${this.#what}.tryAcquire`);
    const r = raw.takeInside(view, 0, this.layout, currentToken, amounts, -1, this.#hint);
    section.leave(view, SECTION, currentToken);
    return this.#taken(r);
  }

  /** Takes `amounts` in FIFO order, blocking. Returns whether a holder died since the last take. */
  takeSync(amounts: readonly number[], ctx: WaitContext): boolean {
    const wait = new Waiter(this, amounts);
    try {
      return untilSync(ctx, () => wait.step(), () => wait.giveUp(), HANDOFF_SPINS);
    } catch (error) {
      // Any failure, not only a timeout (a park refused on the main thread, a fault), must
      // leave the queue: a ticket left behind would stop everyone after it.
      wait.giveUp();
      throw error;
    }
  }

  /** The asynchronous twin of {@link Ledger.takeSync}. */
  async takeAsync(amounts: readonly number[], ctx: WaitContext): Promise<boolean> {
    const wait = new Waiter(this, amounts);
    try {
      return await untilAsync(ctx, () => wait.step(), () => wait.giveUp());
    } catch (error) {
      wait.giveUp();
      throw error;
    }
  }

  /**
   * Gives `amounts` back, from the row of `holder` (default: this thread) first. Returns the
   * first resource released beyond what is held, or -1.
   */
  give(amounts: readonly number[], holder = currentToken): number {
    const view = this.view;
    enterSync(view, SECTION, `${this.#what}.release`);
    const over = raw.giveInside(view, 0, this.layout, holder, amounts, this.#hint);
    const queued = raw.hasQueue(view, 0);
    section.leave(view, SECTION, currentToken);
    if (queued) changes.bump(view, raw.SEQ);
    return over;
  }

  /** Result of a take: throws CapacityError for a full holder table, remembers the row. */
  #taken(r: number): number {
    if (r === raw.NO_ROW) {
      throw new CapacityError(
        `${this.#what}: all ${this.layout.holders} holder rows are in use by other threads; create it with a larger options.maxHolders`,
      );
    }
    if (r >= 0 && raw.takenRow(r) >= 0) this.#hint = raw.takenRow(r);
    return r;
  }

  /** @internal Used by {@link Waiter}. */
  taken(r: number): number {
    return this.#taken(r);
  }

  /** @internal Used by {@link Waiter}. */
  get hint(): number {
    return this.#hint;
  }
}

/** One FIFO wait: its ticket once it has one. */
class Waiter {
  #ticket = -1;
  readonly #entry = new Entry();
  constructor(
    readonly ledger: Ledger,
    readonly amounts: readonly number[],
  ) {}

  /** One look: taken (ownerDied flag), or where to park. */
  step(): boolean | Park {
    const { view, layout } = this.ledger;
    const seq = changes.read(view, raw.SEQ);
    const entered = this.#entry.step(view, SECTION);
    if (entered instanceof Park) return entered;
    let r = raw.takeInside(view, 0, layout, currentToken, this.amounts, this.#ticket, this.ledger.hint);
    if (r === raw.NOT_NOW && this.#ticket === -1) this.#ticket = raw.enqueueInside(view, 0, layout, currentToken);
    if (r === raw.NO_ROW && this.#ticket !== -1) raw.abandonInside(view, 0, layout, this.#ticket);
    const queued = raw.hasQueue(view, 0);
    section.leave(view, SECTION, currentToken);
    if (r >= 0 || r === raw.NO_ROW) {
      // Served (or refused for good): the head moved, so the next in line may look.
      if (this.#ticket !== -1 && queued) changes.bump(view, raw.SEQ);
      r = this.ledger.taken(r);
      return raw.takenOwnerDied(r);
    }
    return changes.parkUntilChange(view, raw.SEQ, seq);
  }

  /** Timed out, aborted or failed: leave the queue so it moves on without this waiter (idempotent). */
  giveUp(): undefined {
    const ticket = this.#ticket;
    if (ticket === -1) return undefined;
    this.#ticket = -1;
    const { view, layout } = this.ledger;
    enterSync(view, SECTION, 'leaving a queue');
    raw.abandonInside(view, 0, layout, ticket);
    section.leave(view, SECTION, currentToken);
    changes.bump(view, raw.SEQ);
    return undefined;
  }
}

/** The thread-death repair of a ledger at `view[index]`: drops the dead thread's tickets and holdings. */
function repair(view: Int32Array, index: number, dead: number): number {
  const layout = raw.layoutAt(view, index);
  return repairInside(view, index + SECTION, dead, () => raw.recoverInside(view, index, layout, dead), () => changes.bump(view, index + raw.SEQ));
}

/** Reads a ledger's layout from memory that may be only its header (for `from(handle)`). */
export function headerLayout(buffer: SharedArrayBuffer, byteOffset: number): raw.PoolLayout {
  return raw.layoutAt(new Int32Array(buffer, byteOffset, 2), 0);
}
