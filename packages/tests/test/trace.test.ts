// A traced run yields a Chrome trace with a track per thread and the events it promises.
import { expect, it } from 'vitest';
import { InvalidStateError, Mutex, StreamCoordinator, type TraceEvent } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();
let coordinator: StreamCoordinator | undefined;

it('records stream spans, waits, heartbeats, checkpoints and recoveries per thread', async () => {
  coordinator = track(new StreamCoordinator({ maxThreads: 4, trace: true, heartbeatTimeoutMs: 150, heartbeatCheckIntervalMs: 25 }));
  await coordinator.warmUp();
  coordinator.configureConvergence({ type: 'checkpoint', intervalMs: 50 });
  const lock = new Mutex();
  const held = new SharedArrayBuffer(4);
  const results = await coordinator.executeParallel([
    { id: 'steady', durationMs: 200 },
    { id: 'stuck', task: streamModule('stuck-once.mjs') },
    { id: 'waiter', task: streamModule('take-lock.mjs'), input: { lock: lock.handle, held } },
    { id: 'holder', task: streamModule('hold-briefly.mjs'), input: { lock: lock.handle, held, untilContended: true } },
  ]);
  expect(results.map((r) => r.status)).toEqual(['complete', 'complete', 'complete', 'complete']);
  const { traceEvents } = coordinator.traceDocument();
  const has = (cat: string, match: (e: TraceEvent) => boolean = () => true): boolean => traceEvents.some((e) => e.cat === cat && match(e));
  expect(has('stream', (e) => e.name === 'steady #1' && e.ph === 'X' && e.dur! > 0)).toBe(true);
  expect(has('stream', (e) => e.name.startsWith('stuck #1'))).toBe(true);
  expect(has('recovery', (e) => e.name === 'restart stuck')).toBe(true);
  expect(has('checkpoint')).toBe(true);
  expect(has('heartbeat')).toBe(true);
  expect(has('wait', (e) => e.name === 'Mutex.lock')).toBe(true);
  // One named track per thread that has events.
  const tracks = new Set(traceEvents.filter((e) => e.ph !== 'M').map((e) => e.tid));
  const named = new Set(traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.tid));
  expect(named).toEqual(tracks);
  expect(tracks.size).toBeGreaterThanOrEqual(3);
});

it('refuses a trace when tracing is off', async () => {
  coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
  expect(() => coordinator!.traceDocument()).toThrow(InvalidStateError);
});
