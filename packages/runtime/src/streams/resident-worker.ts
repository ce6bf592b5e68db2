/**
 * A resident lane, inside a worker (`residents.ts`): one pool task that serves the stream
 * attempts posted on its port, one at a time, answering each on the same port as a lane does,
 * until it is told to leave. The coordinator posts an attempt only once the previous one has
 * answered, so attempts never overlap on the thread; while the task waits for the next one the
 * thread's event loop runs (Piscina parks a thread only between tasks).
 */
import { letClosedPortsGo } from '../shared/ports.js';
import { postOutcome } from './lane-worker.js';
import type { LaneMessage, ResidentTask, StreamTask } from './task.js';
import { runAttempt, runMemoryOf } from './worker-attempt.js';

/** Serves attempts until told to leave; resolves with how many it ran. */
export function runResident(task: ResidentTask): Promise<number> {
  const port = task.resident;
  let served = 0;
  // Tells the coordinator this thread runs the resident: from here on, its port closes with the thread.
  port.postMessage({ index: -1 } satisfies LaneMessage);
  return new Promise((resolve) => {
    port.on('message', (message: StreamTask | null) => {
      if (message !== null) {
        void serve(message).then(() => served++);
        return;
      }
      port.close();
      // A port closed in a pool task finishes closing only once the event loop turns (`shared/ports.ts`).
      void letClosedPortsGo().then(() => resolve(served));
    });
  });

  async function serve(attempt: StreamTask): Promise<void> {
    const { outcome, transfer } = await runAttempt(attempt, runMemoryOf(attempt));
    postOutcome(port, attempt.index, attempt.id, outcome, transfer);
  }
}
