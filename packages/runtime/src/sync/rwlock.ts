/**
 * RwLock: many readers or one writer, in shared memory, robust against dying threads.
 *
 * Layout: the counters and thread table of `raw/rwlock.ts`, changed inside a robust section.
 *
 * **Fairness.** Writer-preferring: once a writer waits, new readers wait behind it, so a steady
 * stream of readers cannot starve a writer.
 *
 * **Thread death.** When a thread dies (reported by `watchWorker`): a writer's lock is freed
 * and the next holders get `guard.ownerDied === true` (the data may be half-written): every
 * reader until a writer has taken the lock, and that writer (who can repair it); a reader's read locks are released; a waiting writer's announcement is
 * withdrawn, so readers it held back go in.
 *
 * **Memory consistency.** Writes made under the write lock are visible to every later reader
 * and writer; readers see each other's writes only through other synchronisation.
 *
 * **Differences from POSIX.** Neither side is re-entrant for writing: taking the write lock
 * twice from one thread throws. At most `maxThreads` threads may hold read locks or wait to
 * write at once (CapacityError beyond).
 */
import { int32s, type Placement } from '../shared/arena.js';
import { CapacityError, InvalidStateError, NotOwnerError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { currentToken } from '../shared/thread.js';
import { integerIn, optionsObject } from '../shared/validate.js';
import { checkWaitOptions, Park, startWait, untilAsync, untilSync, type WaitContext, type WaitOptions } from '../shared/wait.js';
import { enterSync, Entry, repairInside } from './critical.js';
import { Guard } from './guard.js';
import * as changes from './raw/changes.js';
import * as raw from './raw/rwlock.js';
import * as section from './raw/section.js';
import { registerRepair } from './robust.js';

/** Structured-cloneable description of an {@link RwLock}. */
export type RwLockHandle = Handle<'RwLock'>;

/** Where a lock lives and how many threads may read or wait to write at once. */
export interface RwLockOptions extends Placement {
  /** Threads that may hold read locks or wait to write at once. Default 64, at most 4096. */
  readonly maxThreads?: number;
}

const SECTION = raw.SECTION;

/** Proof of holding an {@link RwLock} for reading or writing. */
export class RwLockGuard extends Guard {
  /** Which side of the lock this guard holds. */
  readonly mode: 'read' | 'write';
  /** True when a writer died holding the lock and no writer has held it since: check the data. */
  readonly ownerDied: boolean;
  readonly #lock: RwLock;

  /** @internal */
  constructor(lock: RwLock, mode: 'read' | 'write', ownerDied: boolean) {
    super();
    this.#lock = lock;
    this.mode = mode;
    this.ownerDied = ownerDied;
  }

  /**
   * Releases the lock.
   * @throws InvalidStateError when this guard already released it.
   */
  unlock(): void {
    this.claimRelease();
    this.#lock.release(this.mode);
  }

  protected releaseHeld(): void {
    this.unlock();
  }

  protected describe(): string {
    return `this RwLock ${this.mode} guard`;
  }
}

/** A writer-preferring reader/writer lock. See the module documentation. */
export class RwLock {
  readonly #handle: RwLockHandle;
  readonly #view: Int32Array;
  #hint = -1;

  /** A new, unlocked RwLock in its own buffer or in `options.arena`. */
  constructor(options?: RwLockOptions) {
    const o = optionsObject('options', options);
    const threads = o.maxThreads === undefined ? 64 : integerIn('options.maxThreads', o.maxThreads, 1, 4096);
    const { handle, fresh } = claimRegion('RwLock', raw.wordsFor(threads) * 4, options);
    const rows = fresh ? threads : raw.threadsAt(new Int32Array(handle.buffer, handle.byteOffset, 1), 0);
    this.#handle = handle;
    this.#view = int32s(handle, raw.wordsFor(rows));
    if (fresh) raw.init(this.#view, 0, threads);
    registerRepair(handle.buffer, handle.byteOffset / 4, repair);
  }

  /** Rebuilds, in this thread, the lock that `handle` describes. */
  static from(handle: RwLockHandle): RwLock {
    return adopt(handle, () => new RwLock());
  }

  /** The structured-cloneable handle. */
  get handle(): RwLockHandle {
    return this.#handle;
  }

  /** A read lock if no writer holds or waits for it. */
  tryRead(): RwLockGuard | null {
    return this.#once('read', 'RwLock.tryRead', (v) => raw.readInside(v, 0, currentToken, this.#hint));
  }

  /** The write lock if nobody holds the lock. */
  tryWrite(): RwLockGuard | null {
    return this.#once('write', 'RwLock.tryWrite', (v) => raw.writeInside(v, 0, currentToken, this.#hint, false));
  }

  /** Takes a read lock, blocking. Workers only. */
  read(options?: WaitOptions): RwLockGuard {
    return untilSync(startWait('RwLock.read', options), this.#readStep());
  }

  /** Takes a read lock without blocking the event loop. */
  async readAsync(options?: WaitOptions): Promise<RwLockGuard> {
    return untilAsync(startWait('RwLock.readAsync', options), this.#readStep());
  }

  /** Takes the write lock, blocking. Workers only. */
  write(options?: WaitOptions): RwLockGuard {
    checkWaitOptions(options);
    const fast = this.tryWrite();
    if (fast !== null) return fast;
    this.#checkNotWriter();
    const ctx = this.#announce('RwLock.write', options);
    const withdraw = this.#withdraw();
    try {
      return untilSync(ctx, this.#writeStep(), withdraw);
    } catch (error) {
      // Any failure must withdraw the announcement, or readers would hold back for good.
      withdraw();
      throw error;
    }
  }

  /** Takes the write lock without blocking the event loop. */
  async writeAsync(options?: WaitOptions): Promise<RwLockGuard> {
    checkWaitOptions(options);
    const fast = this.tryWrite();
    if (fast !== null) return fast;
    const ctx = this.#announce('RwLock.writeAsync', options);
    const withdraw = this.#withdraw();
    try {
      return await untilAsync(ctx, this.#writeStep(), withdraw);
    } catch (error) {
      withdraw();
      throw error;
    }
  }

  /** Runs `fn` holding a read lock (blocking acquire), releasing it however `fn` ends. */
  withRead<T>(fn: (guard: RwLockGuard) => T, options?: WaitOptions): T {
    using guard = this.read(options);
    return fn(guard);
  }

  /** Runs `fn` holding the write lock (blocking acquire), releasing it however `fn` ends. */
  withWrite<T>(fn: (guard: RwLockGuard) => T, options?: WaitOptions): T {
    using guard = this.write(options);
    return fn(guard);
  }

  /** Runs `fn` holding a read lock (asynchronous acquire), releasing it however `fn` ends. */
  async withReadAsync<T>(fn: (guard: RwLockGuard) => T | Promise<T>, options?: WaitOptions): Promise<T> {
    using guard = await this.readAsync(options);
    return await fn(guard);
  }

  /** Runs `fn` holding the write lock (asynchronous acquire), releasing it however `fn` ends. */
  async withWriteAsync<T>(fn: (guard: RwLockGuard) => T | Promise<T>, options?: WaitOptions): Promise<T> {
    using guard = await this.writeAsync(options);
    return await fn(guard);
  }

  /** @internal Releases one lock of `mode` held by this thread (through its guard). */
  release(mode: 'read' | 'write'): void {
    const view = this.#view;
    enterSync(view, SECTION, `RwLock ${mode} unlock`);
    const r = mode === 'read' ? raw.readUnlockInside(view, 0, currentToken, this.#hint) : raw.writeUnlockInside(view, 0, currentToken);
    section.leave(view, SECTION, currentToken);
    if (r === raw.NOT_OWNER) throw new NotOwnerError(`RwLock ${mode} unlock by a thread that does not hold it: unlock only through its guard`);
    // A write unlock may let anyone in; a read unlock only writers, and only the last reader's.
    if (mode === 'write' || r === raw.TAKEN) changes.bump(view, raw.SEQ);
  }

  /** One look inside the section; a guard, null (not now), or throws for a full table. */
  #once(mode: 'read' | 'write', what: string, look: (view: Int32Array) => number): RwLockGuard | null {
    const view = this.#view;
    enterSync(view, SECTION, what);
    const r = look(view);
    section.leave(view, SECTION, currentToken);
    return this.#result(mode, r);
  }

  #result(mode: 'read' | 'write', r: number): RwLockGuard | null {
    if (r === raw.NO_ROW) {
      throw new CapacityError(`RwLock: more than ${raw.threadsAt(this.#view, 0)} threads read or wait to write at once; create it with a larger options.maxThreads`);
    }
    if (r === raw.NOT_NOW) return null;
    if (mode === 'read') this.#hint = raw.findRow(this.#view, 0, currentToken, this.#hint);
    return new RwLockGuard(this, mode, r === raw.TAKEN_OWNER_DIED);
  }

  /** One look of a blocking `mode` acquire: a guard, or where to park (the lock word or SEQ). */
  #step(mode: 'read' | 'write', look: (view: Int32Array) => number): () => RwLockGuard | Park {
    const view = this.#view;
    const entry = new Entry();
    return () => {
      const seen = changes.read(view, raw.SEQ);
      const entered = entry.step(view, SECTION);
      if (entered instanceof Park) return entered;
      const r = look(view);
      section.leave(view, SECTION, currentToken);
      return this.#result(mode, r) ?? changes.parkUntilChange(view, raw.SEQ, seen);
    };
  }

  #readStep(): () => RwLockGuard | Park {
    return this.#step('read', (v) => raw.readInside(v, 0, currentToken, this.#hint));
  }

  #writeStep(): () => RwLockGuard | Park {
    return this.#step('write', (v) => raw.writeInside(v, 0, currentToken, this.#hint, true));
  }

  #announce(what: string, options: WaitOptions | undefined): WaitContext {
    const ctx = startWait(what, options);
    const view = this.#view;
    enterSync(view, SECTION, what);
    const r = raw.announceInside(view, 0, currentToken, this.#hint);
    section.leave(view, SECTION, currentToken);
    if (r === raw.NO_ROW) this.#result('write', r);
    return ctx;
  }

  /** Withdraws this thread's writer announcement, once. */
  #withdraw(): () => undefined {
    let done = false;
    return () => {
      if (done) return undefined;
      done = true;
      const view = this.#view;
      enterSync(view, SECTION, 'RwLock writer giving up');
      raw.withdrawInside(view, 0, currentToken, this.#hint);
      section.leave(view, SECTION, currentToken);
      // Readers held back by this writer may enter now that it is not coming.
      changes.bump(view, raw.SEQ);
      return undefined;
    };
  }

  #checkNotWriter(): void {
    if (raw.isWriter(this.#view, 0, currentToken)) {
      throw new InvalidStateError('RwLock.write: this thread already holds the write lock (it is not re-entrant)');
    }
  }
}

/** The thread-death repair of a lock at `view[index]`. */
function repair(view: Int32Array, index: number, dead: number): number {
  return repairInside(view, index + SECTION, dead, () => raw.recoverInside(view, index, dead), () => changes.bump(view, index + raw.SEQ));
}
