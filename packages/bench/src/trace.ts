/**
 * `pnpm bench:trace FILE`: records a Chrome trace of a demonstration run — streams doing CPU
 * work with checkpoints, contending for a Mutex, meeting at a barrier, and one stream stalling
 * until the guardian restarts it — and writes it to FILE (open it in Perfetto or chrome://tracing).
 */
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Barrier, Mutex, StreamCoordinator } from '@tributary/runtime';

const DEMO = new URL('./workloads/traced-demo.mjs', import.meta.url).href;

/** Runs the demo traced and writes the trace; returns how many events it holds. */
async function writeTrace(file: string): Promise<number> {
  const threads = Math.min(4, Math.max(2, availableParallelism()));
  const coordinator = new StreamCoordinator({ maxThreads: threads + 1, trace: true, heartbeatTimeoutMs: 150, heartbeatCheckIntervalMs: 25 });
  try {
    await coordinator.warmUp();
    coordinator.configureConvergence({ type: 'checkpoint', intervalMs: 50 });
    const lock = new Mutex();
    const meet = new Barrier(threads);
    const streams = Array.from({ length: threads }, (_, i) => ({ id: `stream${i}`, task: DEMO, input: { lock: lock.handle, meet: meet.handle, stall: false } }));
    const results = await coordinator.executeParallel([...streams, { id: 'staller', task: DEMO, input: { lock: lock.handle, stall: true } }]);
    const failed = results.filter((r) => r.status !== 'complete');
    if (failed.length > 0) throw new Error(`traced demo: ${failed.map((r) => `${r.id} ${r.status} (${r.error?.message})`).join('; ')}`);
    const document = coordinator.traceDocument();
    await writeFile(file, JSON.stringify(document));
    return document.traceEvents.length;
  } finally {
    await coordinator.close();
  }
}

const file = process.argv[2];
if (file === undefined || file.startsWith('-')) {
  console.error('usage: pnpm bench:trace FILE');
  process.exitCode = 2;
} else {
  const events = await writeTrace(file);
  console.log(`wrote ${file}: ${events} trace events (open it in Perfetto or chrome://tracing)`);
}
