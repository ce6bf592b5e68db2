/**
 * Running-time budgets: a stream attempt's `timeoutMs` counts from when its stream function
 * is called (the worker stamps STARTED), never from when it was queued or while its module
 * loads. The timer is armed when the attempt gets a thread, then re-armed from the stamp.
 */
import { now } from '../shared/clock.js';
import { TimeoutError } from '../shared/errors.js';
import type { RunMemory } from './layout.js';

/** While the function has not been called yet, look again this often. */
const NOT_STARTED_POLL_MS = 50;

/** Calls `onExpire` once stream `index` has run `timeoutMs`; returns a function that disarms it. */
export function armTimeBudget(memory: RunMemory, index: number, timeoutMs: number, onExpire: () => void): () => void {
  let timer: NodeJS.Timeout;
  const check = (): void => {
    const started = memory.startedAt(index);
    if (started === undefined) {
      timer = setTimeout(check, Math.min(timeoutMs, NOT_STARTED_POLL_MS));
      return;
    }
    const left = started + timeoutMs - now();
    if (left <= 0) onExpire();
    else timer = setTimeout(check, left);
  };
  // The attempt cannot have run for timeoutMs before it had a thread: the first look is then.
  timer = setTimeout(check, timeoutMs);
  return () => clearTimeout(timer);
}

/** What a stream that ran past its `timeoutMs` fails with. */
export function streamTimeout(id: string, timeoutMs: number | undefined): TimeoutError {
  return new TimeoutError(`stream ${id} ran past its timeoutMs (${timeoutMs} ms); stop when ctx.signal aborts, or raise streams[].timeoutMs`);
}

/** What the streams of a run that ran past its `timeoutMs` fail with. */
export function runTimeout(timeoutMs: number): TimeoutError {
  return new TimeoutError(`the run ran past its timeoutMs (${timeoutMs} ms); raise options.timeoutMs or give the run less work`);
}
