/**
 * Identity of the calling thread as shared-memory owners record it. Node never reuses a
 * `threadId` within a process, so `threadId + 1` (0 stays "nobody") names one thread for the
 * life of the process: a dead thread's token can never be mistaken for a live one.
 */
import { isMainThread, threadId } from 'node:worker_threads';

/** Largest token that fits the owner field of a lock word (29 bits). */
export const MAX_TOKEN = (1 << 29) - 1;

/** Owner token of a thread: its `threadId + 1`. */
export function tokenOf(id: number): number {
  return (id + 1) & MAX_TOKEN;
}

/** Owner token of the calling thread. */
export const currentToken: number = tokenOf(threadId);

/** Whether the caller is the process's main thread (which must never block in `Atomics.wait`). */
export const onMainThread: boolean = isMainThread;
