// Aligned checkpoints every 200 ms with each stream's progress.
//   node packages/runtime/examples/checkpoints.mjs
import { StreamCoordinator } from '@tributary/runtime';

const coordinator = new StreamCoordinator({ maxThreads: 3 });
await coordinator.warmUp();
coordinator.configureConvergence({
  type: 'checkpoint',
  intervalMs: 200,
  callback: (cp) => {
    const progress = Object.entries(cp.progress).map(([id, p]) => `${id} ${(p * 100).toFixed(0)}%`).join(', ');
    console.log(`checkpoint ${cp.epoch}: ${progress}${cp.lagging.length > 0 ? ` (lagging: ${cp.lagging.join(', ')})` : ''}`);
  },
});
// Without a task, a stream runs the built-in simulate workload for durationMs.
await coordinator.executeParallel([0, 1, 2].map((i) => ({ id: `stream${i}`, durationMs: 500 + i * 200 })));
await coordinator.close();
