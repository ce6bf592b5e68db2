/**
 * The Piscina worker entry of a `tributary-node`: runs one attempt of one cluster stream on
 * this thread and reports how it ended, as data. The module it loads was vetted by the node
 * (see `allow.ts`) before the task was sent here.
 */
import { simulate } from '../streams/simulate.js';
import { loadStreamFunction } from '../streams/loader.js';
import { errorInfo } from '../streams/task.js';
import type { StreamContext, StreamErrorInfo } from '../streams/types.js';
import { BridgeClient } from './bridge.js';
import { createClusterContext } from './context.js';
import type { ClusterTask } from './job.js';

/** Slack beyond the checkpoint interval a stream waits at a checkpoint before going on. */
const CHECKPOINT_SLACK_MS = 1_000;

/** Runs one attempt; never throws. */
export default async function runClusterTask(task: ClusterTask): Promise<{ ok: true; value: unknown } | { ok: false; error: StreamErrorInfo }> {
  const words = new Int32Array(task.words);
  const bridge = new BridgeClient(task.port, words);
  try {
    const ctx = createClusterContext({
      id: task.job.id,
      attempt: task.attempt,
      resume: task.resume,
      words,
      bridge,
      parties: task.job.parties,
      hasResources: task.job.resources,
      checkpointLimitMs: task.job.intervalMs + CHECKPOINT_SLACK_MS,
      directory: task.directory,
    });
    const fn = task.href === undefined ? undefined : await loadStreamFunction(task.href, task.job.exportName);
    // The first beat says the stream function is called: supervision starts here, not during module loading.
    ctx.heartbeat();
    const value =
      fn === undefined
        ? // simulate uses only heartbeat, progress and checkpoint, which the cluster context has.
          simulate(task.job.durationMs, ctx as unknown as StreamContext)
        : await fn(task.job.input, ctx as unknown as StreamContext);
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error: errorInfo(error) };
  } finally {
    task.port.close();
  }
}
