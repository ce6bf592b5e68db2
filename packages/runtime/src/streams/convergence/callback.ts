/**
 * The user's convergence callback, guarded: an event reaches it until it throws or its
 * promise rejects; then the run fails with CallbackError (once) and hears nothing more.
 */
import { CallbackError } from '../../shared/errors.js';

/** What the guard needs of its run. */
export interface CallbackHost {
  /** An async callback's promise, which the run waits for before it ends. */
  pending(work: Promise<unknown>): void;
  /** The callback failed: cancel the run's other streams. */
  failed(error: CallbackError): void;
}

/** A convergence callback that fails its run instead of throwing into it. */
export class GuardedCallback {
  readonly #callback: ((event: unknown) => unknown) | undefined;
  readonly #host: CallbackHost;
  #error: CallbackError | undefined;

  constructor(callback: ((event: never) => unknown) | undefined, host: CallbackHost) {
    this.#callback = callback as ((event: unknown) => unknown) | undefined;
    this.#host = host;
  }

  /** Why the run fails, once the callback has failed. */
  get error(): CallbackError | undefined {
    return this.#error;
  }

  /** Hands `event` to the callback, unless it has failed already. */
  deliver(event: unknown): void {
    if (this.#callback === undefined || this.#error !== undefined) return;
    try {
      const returned = this.#callback(event);
      if (returned instanceof Promise) this.#host.pending(returned.catch((error: unknown) => this.#fail(error)));
    } catch (error) {
      this.#fail(error);
    }
  }

  #fail(error: unknown): void {
    if (this.#error !== undefined) return;
    const message = error instanceof Error ? error.message : String(error);
    this.#error = new CallbackError(
      `the convergence callback failed (${message}); the run's other streams were cancelled. Catch errors inside the callback to keep a run going`,
      { cause: error },
    );
    this.#host.failed(this.#error);
  }
}
