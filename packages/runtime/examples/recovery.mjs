// A stream that hangs is detected by its missing heartbeat and restarted by the guardian;
// a stream that throws fails alone.
//   node packages/runtime/examples/recovery.mjs
import { StreamCoordinator } from '@tributary/runtime';

const coordinator = new StreamCoordinator({
  maxThreads: 3,
  heartbeatTimeoutMs: 300,
  guardian: (request) => {
    console.log(`guardian: ${request.streamId} silent since ${new Date(request.lastHeartbeat).toISOString()}, details ${JSON.stringify(request.details)}: restart`);
    return { action: 'restart' };
  },
});
const task = new URL('./streams/flaky.mjs', import.meta.url);
const results = await coordinator.executeParallel([
  { id: 'healthy', task, input: { mode: 'ok' } },
  { id: 'hangs-once', task, input: { mode: 'stuck' } },
  { id: 'throws', task, input: { mode: 'broken' } },
]);
for (const r of results) console.log(`${r.id}: ${r.status} after ${r.attempts} attempt(s)${r.value ? `, ${r.value}` : ''}${r.error ? `, ${r.error.message}` : ''}`);
await coordinator.close();
