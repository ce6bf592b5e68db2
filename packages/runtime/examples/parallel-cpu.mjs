// Parallel CPU work with a live progress bar: count primes in 8 ranges on every core.
//   node packages/runtime/examples/parallel-cpu.mjs
import { StreamCoordinator } from '@tributary/runtime';

const coordinator = new StreamCoordinator();
await coordinator.warmUp();
const streams = Array.from({ length: 8 }, (_, i) => ({
  id: `range-${i}`,
  task: new URL('./streams/primes.mjs', import.meta.url),
  input: { from: i * 250_000, to: (i + 1) * 250_000 },
}));
// Progress is read from shared memory: no message per update, even while workers are busy.
const bar = setInterval(() => {
  const records = coordinator.registry.list();
  const done = records.reduce((sum, r) => sum + r.progress, 0) / records.length;
  process.stdout.write(`\r[${'#'.repeat(Math.round(done * 30)).padEnd(30)}] ${(done * 100).toFixed(0)}%`);
}, 100);
const results = await coordinator.executeParallel(streams);
clearInterval(bar);
const total = results.reduce((sum, r) => sum + r.value, 0);
console.log(`\r[${'#'.repeat(30)}] 100%\n${total} primes below 2,000,000 in ${coordinator.convergenceTime} ms`);
await coordinator.close();
