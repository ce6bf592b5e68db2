/**
 * One attempt of one stream inside a worker: it marks the slot RUNNING with its thread id,
 * builds the context, loads the stream function, stamps STARTED and calls it, and returns the
 * outcome as data (errors keep their name, message, stack and code). Locks the stream still
 * holds when it returns are marked owner-died, as if its thread had died: the stream is over.
 */
import { threadId, workerData, type TransferListItem } from 'node:worker_threads';
import { letClosedPortsGo } from '../shared/ports.js';
import { setParkObserver } from '../shared/wait.js';
import { beginLockScope, endLockScope } from '../sync/robust.js';
import { createContext, type WorkerContext } from './context.js';
import { RUNNING, RunMemory, STARTED, STATE, THREAD } from './layout.js';
import { loadStreamFunction } from './loader.js';
import { StreamParkObserver } from './park-observer.js';
import { ServicesConnection } from './services.js';
import { simulate } from './simulate.js';
import { errorInfo, type LaneTask, type StreamOutcome, type StreamTask, type StreamWorkerData } from './task.js';

/** The coordinator-wide handles, the same for every task of this thread. */
export const shared = (workerData as StreamWorkerData).shared;

/** How an attempt ended, and what its result moves back instead of copying (`ctx.transfer`). */
export interface AttemptEnd {
  readonly outcome: StreamOutcome;
  readonly transfer?: readonly TransferListItem[];
}

/** Whether a stream returned a promise (or any thenable) to wait for, rather than its result. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

/** The memory of the run `task` belongs to, as this thread sees it. */
export function runMemoryOf(task: StreamTask | LaneTask): RunMemory {
  return RunMemory.from(task.run, shared.runSlab);
}

/** Runs one stream attempt of the run in `memory`; never throws. */
export async function runAttempt(task: StreamTask, memory: RunMemory): Promise<AttemptEnd> {
  beginLockScope();
  memory.set(task.index, THREAD, threadId);
  memory.set(task.index, STATE, RUNNING);
  const services = new ServicesConnection({ run: memory.runId, index: task.index, attempt: task.attempt });
  let ctx: WorkerContext | undefined;
  let observer: StreamParkObserver | undefined;
  try {
    ctx = createContext({
      id: task.id,
      index: task.index,
      attempt: task.attempt,
      resume: task.resume,
      memory,
      shared,
      directory: task.directory,
      services: {
        recordDetails: (details) => void services.remote.recordDetails(details),
        // A plain object over the remote one: the services channel opens on the first call only.
        processLocks: {
          acquire: (path, holder, timeoutMs) => services.remote.processLocks.acquire(path, holder, timeoutMs),
          release: (path, holder) => services.remote.processLocks.release(path, holder),
        },
      },
    });
    // Awaited only while loading: an attempt of a loaded module starts in the turn its task arrived.
    const found = task.task === undefined ? undefined : loadStreamFunction(task.task, task.exportName);
    const fn = found instanceof Promise ? await found : found;
    // Running time (timeouts, heartbeat supervision) counts from here: module loading is not the stream's.
    memory.stamp(task.index, STARTED);
    ctx.heartbeat();
    observer = new StreamParkObserver(memory, task.index, ctx, task.parkBeatMs !== undefined);
    setParkObserver(observer, task.parkBeatMs);
    const returned = fn === undefined ? simulate(task.durationMs ?? 0, ctx) : fn(task.input, ctx);
    const value = isThenable(returned) ? await returned : returned;
    const marked = ctx.transferred;
    const moved = marked !== undefined && marked.value === value ? marked.list : undefined;
    return { outcome: { ok: true, value }, ...(moved === undefined ? {} : { transfer: moved }) };
  } catch (error) {
    return { outcome: { ok: false, error: errorInfo(error) } };
  } finally {
    ctx?.end();
    setParkObserver(undefined);
    observer?.close();
    // The stream is over: what it still holds goes back, as if its thread had ended.
    const releasing = ctx?.releaseFileLocks();
    if (releasing !== undefined) await releasing.catch(() => {});
    endLockScope(threadId);
    if (services.close()) await letClosedPortsGo();
  }
}
