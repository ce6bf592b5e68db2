/**
 * The one guard discipline every lock of the sync layer shares: a guard releases what it holds
 * exactly once, through its release method or `using` (Symbol.dispose), and a second release
 * is a typed error instead of a silent double unlock.
 */
import { InvalidStateError } from '../shared/errors.js';

/** Base of `RwLockGuard`, `SemaphorePermit` and `ResourceLease` (`MutexGuard` keeps the rule by hand, for speed): release once, then never again. */
export abstract class Guard implements Disposable {
  #held = true;

  /** Whether this guard still holds what it was given. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * Claims the one release: the first call returns, later calls throw. A subclass's release
   * method calls it, then gives back what it holds itself, so the hot unlock path makes no
   * virtual call (a shared `doRelease()` cost the uncontended Mutex a third of its speed).
   * @throws InvalidStateError when this guard already released.
   */
  protected claimRelease(): void {
    if (!this.#held) throw alreadyReleased(this.describe());
    this.#held = false;
  }

  /** The subclass's own release (`unlock()`, `release()`), for `using`. */
  protected abstract releaseHeld(): void;

  /** Names the guard in the error for a second release ("this MutexGuard"). */
  protected abstract describe(): string;

  /** Releases unless that already happened (so `using` after an explicit release is harmless). */
  [Symbol.dispose](): void {
    if (this.#held) this.releaseHeld();
  }
}

/** The error a second release of a guard gets (`what`: "this MutexGuard"). */
export function alreadyReleased(what: string): InvalidStateError {
  return new InvalidStateError(`${what} already released; release each guard once`);
}
