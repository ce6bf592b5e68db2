/**
 * The one guard discipline every lock of the sync layer shares: a guard releases what it holds
 * exactly once, through its release method or `using` (Symbol.dispose), and a second release
 * is a typed error instead of a silent double unlock.
 */
import { InvalidStateError } from '../shared/errors.js';

/** Base of `MutexGuard`, `RwLockGuard` and `SemaphorePermit`: release once, then never again. */
export abstract class Guard implements Disposable {
  #held = true;

  /** Whether this guard still holds what it was given. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Releases once: the first call runs {@link Guard.doRelease}, later calls throw.
   * @throws InvalidStateError when this guard already released.
   */
  protected releaseOnce(): void {
    if (!this.#held) throw new InvalidStateError(`${this.describe()} already released; release each guard once`);
    this.#held = false;
    this.doRelease();
  }

  /** Gives the held lock or permits back; called exactly once. */
  protected abstract doRelease(): void;

  /** Names the guard in the error for a second release ("this MutexGuard"). */
  protected abstract describe(): string;

  /** Releases unless that already happened (so `using` after an explicit release is harmless). */
  [Symbol.dispose](): void {
    if (this.#held) this.releaseOnce();
  }
}
