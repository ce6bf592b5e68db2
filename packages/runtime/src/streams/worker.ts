/**
 * The Piscina worker entry. A task is one attempt of one stream (`worker-attempt.ts`), whose
 * outcome is the task's result; a lane of a run (`lane-worker.ts`), which runs the run's
 * streams it claims one after another and posts each outcome as the stream settles; or a
 * resident lane (`resident-worker.ts`), which runs the attempts posted to it until told to leave.
 */
import { threadId } from 'node:worker_threads';
import { startTracing, stopTracing } from '../shared/trace.js';
import { runLane } from './lane-worker.js';
import { retire } from './retire.js';
import { runResident } from './resident-worker.js';
import { isLaneTask, isResidentTask, type LaneTask, type ResidentTask, type StreamOutcome, type StreamTask } from './task.js';
import { movedOutcome } from './transfer.js';
import { runAttempt, runMemoryOf } from './worker-attempt.js';

/** Attempts this thread has run (for `maxStreamsPerThread`). */
let attemptsHere = 0;

/** Runs the task; never throws (an outcome says how each attempt went). */
export default function runTask(task: StreamTask | LaneTask | ResidentTask): Promise<StreamOutcome | number> {
  if (isResidentTask(task)) return runResident(task);
  return isLaneTask(task) ? runLane(task) : runStreamTask(task);
}

async function runStreamTask(task: StreamTask): Promise<StreamOutcome> {
  if (task.trace) startTracing(threadId);
  const memory = runMemoryOf(task);
  const { outcome, transfer } = await runAttempt(task, memory);
  const reported = task.trace ? { ...outcome, trace: stopTracing() } : outcome;
  if (task.retireAfter !== undefined && ++attemptsHere >= task.retireAfter) {
    retire({ run: memory.runId, index: task.index, attempt: task.attempt }, reported, transfer);
  }
  // What the stream marked with ctx.transfer() is moved back, not copied.
  return transfer === undefined ? reported : movedOutcome(reported, transfer);
}
