/**
 * A lane, inside a worker: claims the run's streams one at a time from the run's shared claim
 * counter (so a stream that parks holds no batch-mate: the unclaimed ones go to the other
 * lanes), runs each as one attempt, and posts its outcome on the lane's port as soon as it
 * settles. A last message says the lane is done; if the thread dies first, the port closes
 * with it. Either way every outcome the lane posted has arrived once the coordinator hears
 * that (one port delivers in order, and Node delivers a dead thread's messages before the
 * port's 'close'). The lane's own `port.close()` is no such signal: it completes only when
 * the thread's event loop turns (`shared/ports.ts`).
 */
import type { MessagePort, TransferListItem } from 'node:worker_threads';
import { letClosedPortsGo } from '../shared/ports.js';
import { errorInfo, unsendableError, type LaneMessage, type LaneTask, type StreamOutcome, type StreamTask } from './task.js';
import { runAttempt, runMemoryOf } from './worker-attempt.js';

/** Runs the streams this lane claims until none is left; resolves with how many it ran. */
export async function runLane(task: LaneTask): Promise<number> {
  const memory = runMemoryOf(task);
  // The coordinator marked the lane unstarted: from here on, its port is this thread's.
  memory.setCurrent(task.lane, -1);
  let ran = 0;
  try {
    // Nothing awaits between posting an outcome and recording the next claim, so an error a
    // stream's leftover callbacks throw later always ends the thread while CURRENT names a
    // stream that is still running.
    for (let index = memory.claim(); index >= 0; index = memory.claim()) {
      memory.setCurrent(task.lane, index);
      const { outcome, transfer } = await runAttempt(streamTask(task, index), memory);
      postOutcome(task.port, index, task.specs[index]!.id, outcome, transfer);
      memory.setCurrent(task.lane, -1);
      ran++;
    }
  } finally {
    task.port.postMessage({ index: -1 } satisfies LaneMessage);
    task.port.close();
  }
  await letClosedPortsGo();
  return ran;
}

function streamTask(lane: LaneTask, index: number): StreamTask {
  const spec = lane.specs[index]!;
  return {
    run: lane.run,
    index,
    id: spec.id,
    attempt: 1,
    input: spec.input,
    task: lane.modules[spec.module],
    exportName: spec.exportName,
    durationMs: spec.durationMs,
  };
}

/** Posts stream `index`'s (`id`'s) outcome on `port`, moving what `ctx.transfer()` marked; an outcome that cannot be cloned becomes its error. */
export function postOutcome(port: MessagePort, index: number, id: string, outcome: StreamOutcome, transfer: readonly TransferListItem[] | undefined): void {
  try {
    port.postMessage({ index, outcome } satisfies LaneMessage, transfer === undefined ? [] : [...transfer]);
  } catch {
    const failed: StreamOutcome = { ok: false, error: errorInfo(unsendableError(id)) };
    port.postMessage({ index, outcome: failed } satisfies LaneMessage);
  }
}
