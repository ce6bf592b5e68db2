/**
 * Protocols suite: heartbeat cost inside a stream, a state update from a worker, a resource
 * grant and release, and how late a missed heartbeat reaches the guardian.
 */
import { HeartbeatProtocol, Mutex, ResourceNegotiationProtocol, ResourcePool, StreamCoordinator } from '@tributary/runtime';
import { nsPerOp } from '../measure.js';
import { median } from '../stats/index.js';
import { compare, type Comparison, type Suite, type SuiteContext } from '../types.js';

const HEARTBEAT_LOOP = new URL('../workloads/heartbeat-loop.mjs', import.meta.url).href;
const STATE_LOOP = new URL('../workloads/state-loop.mjs', import.meta.url).href;

async function inStream(ctx: SuiteContext): Promise<Comparison[]> {
  ctx.progress('heartbeat and state update in a worker');
  const coordinator = new StreamCoordinator({ maxThreads: 1 });
  try {
    // The baseline's mutex crosses into the worker as a handle in the stream's input.
    const mutex = new Mutex();
    const samples = { heartbeat: [] as number[][], state: [] as number[][] };
    for (let i = 0; i < 5; i++) {
      const [hb, st] = await coordinator.executeParallel([
        { id: 'hb', task: HEARTBEAT_LOOP, input: { n: 200_000 } },
        { id: 'state', task: STATE_LOOP, input: { n: 2_000, mutex: mutex.handle } },
      ]);
      for (const [r, into] of [[hb!, samples.heartbeat], [st!, samples.state]] as const) {
        if (r.status !== 'complete') throw new Error(`benchmark stream ${r.id} ${r.status}: ${r.error?.message}`);
        const v = r.value as { subject: number; baseline: number };
        into.push([v.subject, v.baseline]);
      }
    }
    const pick = (rows: number[][], col: number): number => median(rows.map((r) => r[col]!));
    return [
      compare(
        { suite: 'protocols', id: 'heartbeat.cost', name: 'ctx.heartbeat() in a stream', subject: 'ctx.heartbeat', baseline: 'bare Atomics.store of the time', unit: 'ns/op', target: 2 },
        pick(samples.heartbeat, 0),
        pick(samples.heartbeat, 1),
      ),
      compare(
        { suite: 'protocols', id: 'state.update', name: 'state update from a worker', subject: 'createNewVersionSync', baseline: 'Mutex-guarded increment', unit: 'ns/op' },
        pick(samples.state, 0),
        pick(samples.state, 1),
      ),
    ];
  } finally {
    await coordinator.close();
  }
}

async function grants(ctx: SuiteContext): Promise<Comparison> {
  ctx.progress('resource grant and release');
  const negotiator = new ResourceNegotiationProtocol({ cpu: 4, mem: 8192 });
  const pool = new ResourcePool({ cpu: 4, mem: 8192 });
  const request = { cpu: 2, mem: 4096 };
  const BATCH = 200;
  const [protocol, raw] = await nsPerOp(
    [
      {
        name: 'requestResources + releaseResources',
        opsPerCall: BATCH,
        async: true,
        fn: async () => {
          for (let i = 0; i < BATCH; i++) {
            await negotiator.requestResources('s', request);
            await negotiator.releaseResources('s');
          }
        },
      },
      { name: 'ResourcePool tryAcquire + release', opsPerCall: BATCH, fn: () => { for (let i = 0; i < BATCH; i++) { pool.tryAcquire(request); pool.release(request); } } },
    ],
    ctx.timeMs,
  );
  return compare({ suite: 'protocols', id: 'resources.grant', name: 'resource grant + release', subject: 'negotiation', baseline: 'bare pool', unit: 'ns/op' }, protocol!, raw!);
}

async function guardianLatency(ctx: SuiteContext): Promise<Comparison> {
  ctx.progress('missed heartbeat to guardian');
  const timeoutMs = 50;
  const checkIntervalMs = 10;
  const late: number[] = [];
  for (let i = 0; i < 7; i++) {
    const protocol = new HeartbeatProtocol({ timeoutMs, checkIntervalMs });
    const called = new Promise<number>((resolve) => {
      protocol.invokeGuardian = () => {
        resolve(Date.now());
        return { action: 'ignore' };
      };
    });
    protocol.sendHeartbeat('s');
    const beat = protocol.lastHeartbeat('s')!;
    late.push((await called) - beat);
    protocol.close();
  }
  return compare(
    { suite: 'protocols', id: 'heartbeat.detection', name: 'last beat to guardian call', subject: 'measured', baseline: 'timeoutMs + checkIntervalMs', unit: 'ms', target: 1 },
    median(late),
    timeoutMs + checkIntervalMs,
  );
}

/** The protocols suite. */
export const protocols: Suite = {
  name: 'protocols',
  description: 'heartbeat, shared state, resource negotiation and guardian latency',
  async run(ctx) {
    return [...(await inStream(ctx)), await grants(ctx), await guardianLatency(ctx)];
  },
};
