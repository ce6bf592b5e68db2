/**
 * RwLock: many readers or one writer, in shared memory.
 *
 * Layout: three Int32 words, described in `raw/rwlock.ts`.
 *
 * **Fairness.** Writer-preferring: once a writer waits, new readers wait behind it, so a steady
 * stream of readers cannot starve a writer.
 *
 * **Memory consistency.** Writes made under the write lock are visible to every later reader
 * and writer; readers see each other's writes only through other synchronisation.
 *
 * **Differences from POSIX.** Not robust: a thread that dies holding it leaves it held (use a
 * timeout). The write lock is not re-entrant; taking it twice from one thread throws.
 */
import { int32s, type Placement } from '../shared/arena.js';
import { InvalidStateError } from '../shared/errors.js';
import { adopt, claimRegion, type Handle } from '../shared/handle.js';
import { currentToken } from '../shared/thread.js';
import { checkWaitOptions, startWait, untilAsync, untilSync, type WaitOptions } from '../shared/wait.js';
import { Guard } from './guard.js';
import * as raw from './raw/rwlock.js';

/** Structured-cloneable description of an {@link RwLock}. */
export type RwLockHandle = Handle<'RwLock'>;

/** Proof of holding an {@link RwLock} for reading or writing. */
export class RwLockGuard extends Guard {
  /** Which side of the lock this guard holds. */
  readonly mode: 'read' | 'write';
  readonly #view: Int32Array;

  /** @internal */
  constructor(view: Int32Array, mode: 'read' | 'write') {
    super();
    this.#view = view;
    this.mode = mode;
  }

  /**
   * Releases the lock.
   * @throws InvalidStateError when this guard already released it.
   */
  unlock(): void {
    this.releaseOnce();
  }

  protected doRelease(): void {
    if (this.mode === 'read') raw.readUnlock(this.#view);
    else raw.writeUnlock(this.#view, currentToken);
  }

  protected describe(): string {
    return `this RwLock ${this.mode} guard`;
  }
}

/** A writer-preferring reader/writer lock. See the module documentation. */
export class RwLock {
  readonly #handle: RwLockHandle;
  readonly #view: Int32Array;

  /** A new, unlocked RwLock in its own buffer or in `options.arena`. */
  constructor(options?: Placement) {
    const { handle } = claimRegion('RwLock', raw.WORDS * 4, options);
    this.#handle = handle;
    this.#view = int32s(handle, raw.WORDS);
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
    return raw.tryRead(this.#view) ? new RwLockGuard(this.#view, 'read') : null;
  }

  /** The write lock if nobody holds the lock. */
  tryWrite(): RwLockGuard | null {
    return raw.tryWrite(this.#view, currentToken) ? new RwLockGuard(this.#view, 'write') : null;
  }

  /** Takes a read lock, blocking. Workers only. */
  read(options?: WaitOptions): RwLockGuard {
    const view = this.#view;
    untilSync(startWait('RwLock.read', options), () => raw.readStep(view));
    return new RwLockGuard(view, 'read');
  }

  /** Takes a read lock without blocking the event loop. */
  async readAsync(options?: WaitOptions): Promise<RwLockGuard> {
    const view = this.#view;
    await untilAsync(startWait('RwLock.readAsync', options), () => raw.readStep(view));
    return new RwLockGuard(view, 'read');
  }

  /** Takes the write lock, blocking. Workers only. */
  write(options?: WaitOptions): RwLockGuard {
    checkWaitOptions(options);
    const fast = this.tryWrite();
    if (fast !== null) return fast;
    const ctx = startWait('RwLock.write', options);
    this.#checkNotWriter();
    raw.announceWriter(this.#view);
    untilSync(ctx, () => raw.writeStep(this.#view, currentToken), this.#withdraw());
    raw.withdrawWriter(this.#view, false);
    return new RwLockGuard(this.#view, 'write');
  }

  /** Takes the write lock without blocking the event loop. */
  async writeAsync(options?: WaitOptions): Promise<RwLockGuard> {
    checkWaitOptions(options);
    const fast = this.tryWrite();
    if (fast !== null) return fast;
    const ctx = startWait('RwLock.writeAsync', options);
    raw.announceWriter(this.#view);
    await untilAsync(ctx, () => raw.writeStep(this.#view, currentToken), this.#withdraw());
    raw.withdrawWriter(this.#view, false);
    return new RwLockGuard(this.#view, 'write');
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

  #withdraw(): () => undefined {
    return () => {
      raw.withdrawWriter(this.#view, true);
      return undefined;
    };
  }

  #checkNotWriter(): void {
    if (raw.isWriter(this.#view, currentToken)) {
      throw new InvalidStateError('RwLock.write: this thread already holds the write lock (it is not re-entrant)');
    }
  }
}
