// Streams meet at a barrier in the middle of their work.
//   node packages/runtime/examples/barrier-mid-task.mjs
import { StreamCoordinator } from '@tributary/runtime';

const parties = 4;
const coordinator = new StreamCoordinator({ maxThreads: parties });
const slots = new SharedArrayBuffer(parties * 4);
const results = await coordinator.executeParallel(
  Array.from({ length: parties }, (_, index) => ({ id: `s${index}`, task: new URL('./streams/phases.mjs', import.meta.url), input: { slots, index, parties } })),
);
// Every stream saw every phase-1 result: 0 + 10 + 20 + 30.
console.log(results.map((r) => `${r.id}: ${r.status}, sum ${r.value}`).join('\n'));
await coordinator.close();
