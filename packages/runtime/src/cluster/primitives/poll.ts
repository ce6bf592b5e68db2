/**
 * The bounded wait of every cluster primitive: try a step (one Lua script), and while it says
 * "not yet", sleep a little and try again, until the deadline or the signal. Redis has no futex
 * across clients, so waiting is polling; the interval grows from 2 ms to {@link MAX_POLL_MS} so
 * a short wait answers fast and a long one costs Redis a few commands a second.
 */
import { ABORTED, startWait, TIMED_OUT, waitError, type WaitOptions } from '../../shared/wait.js';

/** Longest sleep between two tries: bounds the latency a waiter adds after its condition came true. */
export const MAX_POLL_MS = 25;

/**
 * Runs `step` until it returns a value. On timeout or abort, `giveUp` gets one last say (it may
 * return a value, for instance when the barrier tripped meanwhile); otherwise the typed error is thrown.
 */
export async function pollUntil<T>(
  what: string,
  options: WaitOptions | undefined,
  step: () => Promise<T | undefined>,
  giveUp?: () => Promise<T | undefined>,
): Promise<T> {
  const ctx = startWait(what, options);
  let sleepMs = 2;
  for (;;) {
    const value = await step();
    if (value !== undefined) return value;
    const outcome = ctx.signal?.aborted ? ABORTED : Date.now() >= ctx.deadline ? TIMED_OUT : undefined;
    if (outcome !== undefined) {
      const last = await giveUp?.();
      if (last !== undefined) return last;
      throw waitError(ctx, outcome);
    }
    await sleep(Math.min(sleepMs, Math.max(0, ctx.deadline - Date.now())), ctx.signal);
    sleepMs = Math.min(sleepMs * 2, MAX_POLL_MS);
  }
}

/**
 * `promise`, or `undefined` once `ms` have passed without it settling: for clean-up that must
 * not hold up a shutdown while Redis is unreachable (its client may queue commands forever).
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([promise.catch(() => undefined), late]).finally(() => clearTimeout(timer));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
