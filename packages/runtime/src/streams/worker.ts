/**
 * The Piscina worker entry: runs one attempt of one stream. It marks the slot RUNNING with
 * its thread id, builds the context, loads and calls the stream function, and reports the
 * outcome as data (errors keep their name, message, stack and code). Locks the stream still
 * holds when it returns are marked owner-died, as if its thread had died: the stream is over.
 */
import { threadId } from 'node:worker_threads';
import { startTracing, stopTracing } from '../shared/trace.js';
import { setParkHook } from '../shared/wait.js';
import { beginLockScope, endLockScope } from '../sync/robust.js';
import { createContext, type WorkerContext } from './context.js';
import { RUNNING, RunMemory, STARTED, STATE, THREAD } from './layout.js';
import { loadStreamFunction } from './loader.js';
import { ServicesConnection } from './services.js';
import { simulate } from './simulate.js';
import { errorInfo, type StreamOutcome, type StreamTask } from './task.js';

/** Runs one stream attempt; never throws (the outcome says how it went). */
export default async function runStreamTask(task: StreamTask): Promise<StreamOutcome> {
  if (task.trace) startTracing(threadId);
  const outcome = await runAttempt(task);
  return task.trace ? { ...outcome, trace: stopTracing() } : outcome;
}

async function runAttempt(task: StreamTask): Promise<StreamOutcome> {
  beginLockScope();
  const memory = RunMemory.from(task.run);
  memory.set(task.index, THREAD, threadId);
  memory.stamp(task.index, STARTED);
  memory.set(task.index, STATE, RUNNING);
  const services = new ServicesConnection({ run: task.runId, index: task.index, attempt: task.attempt });
  let ctx: WorkerContext | undefined;
  try {
    ctx = createContext({
      id: task.id,
      index: task.index,
      attempt: task.attempt,
      resume: task.resume,
      memory,
      shared: task.shared,
      directory: task.directory,
      services: {
        recordDetails: (details) => void services.remote.recordDetails(details),
        processLocks: {
          acquire: (path, holder, timeoutMs) => services.remote.acquireProcessLock(path, holder, timeoutMs),
          release: (path, holder) => services.remote.releaseProcessLock(path, holder),
        },
      },
    });
    ctx.heartbeat();
    const beating = ctx;
    if (task.parkBeatMs !== undefined) setParkHook(() => beating.heartbeat(), task.parkBeatMs);
    const value =
      task.task === undefined
        ? simulate(task.durationMs, ctx)
        : await (await loadStreamFunction(task.task, task.exportName))(task.input, ctx);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: errorInfo(error) };
  } finally {
    setParkHook(undefined);
    // The stream is over: what it still holds goes back, as if its thread had ended.
    const releasing = ctx?.releaseFileLocks();
    if (releasing !== undefined) await releasing.catch(() => {});
    endLockScope(threadId);
    services.close();
  }
}
