/**
 * `pnpm bench:memory [--streams N] [--max-in-flight K] [--threads T] [--samples S]`: runs N
 * empty streams through `coordinator.stream(source, { maxInFlight })` from a generator (no
 * array of N specs is ever built) and prints the process's resident memory as the count grows,
 * so you can see that it stays flat however many streams go through. It also counts: every
 * stream must come back exactly once and complete, or it exits 1.
 *
 * Defaults: 1,000,000 streams, maxInFlight 1024 (the coordinator's default), every core,
 * 20 samples. Ten million empty streams take tens of minutes on two cores.
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { StreamCoordinator, type StreamSpec } from '@tributary/runtime';
import { count } from './tool/cli.js';
import { EMPTY } from './workloads/index.js';

const MIB = 1024 * 1024;

interface Options {
  readonly streams: number;
  readonly maxInFlight: number;
  readonly threads: number;
  readonly samples: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      streams: { type: 'string', default: '1000000' },
      'max-in-flight': { type: 'string', default: '1024' },
      threads: { type: 'string', default: String(availableParallelism()) },
      samples: { type: 'string', default: '20' },
    },
  });
  // Every option has a default, so each count is defined.
  return {
    streams: count('streams', values.streams, 1)!,
    maxInFlight: count('max-in-flight', values['max-in-flight'], 1)!,
    threads: count('threads', values.threads, 1)!,
    samples: count('samples', values.samples, 1)!,
  };
}

function* emptyStreams(n: number): Generator<StreamSpec> {
  for (let i = 0; i < n; i++) yield { id: `s${i}`, task: EMPTY };
}

/** Runs the streams and prints one line per sample; returns whether every stream completed once. */
async function measure(o: Options): Promise<boolean> {
  const coordinator = new StreamCoordinator({ maxThreads: o.threads });
  const every = Math.max(1, Math.floor(o.streams / o.samples));
  const start = performance.now();
  let settled = 0;
  let failed = 0;
  let repeated = 0;
  // One byte per stream, allocated up front: duplicates are caught without a growing set.
  const seen = new Uint8Array(o.streams);
  const rssAt: number[] = [];
  console.log(`${o.streams} empty streams, maxInFlight ${o.maxInFlight}, ${o.threads} threads, Node ${process.version}`);
  console.log('streams settled | RSS MiB | heap used MiB | elapsed s');
  try {
    for await (const result of coordinator.stream(emptyStreams(o.streams), { maxInFlight: o.maxInFlight })) {
      settled++;
      if (result.status !== 'complete') failed++;
      const index = Number(result.id.slice(1));
      if (seen[index] === 1) repeated++;
      seen[index] = 1;
      if (settled % every === 0 || settled === o.streams) {
        const { rss, heapUsed } = process.memoryUsage();
        rssAt.push(rss);
        console.log(`${settled} | ${(rss / MIB).toFixed(0)} | ${(heapUsed / MIB).toFixed(0)} | ${((performance.now() - start) / 1000).toFixed(1)}`);
      }
    }
  } finally {
    await coordinator.close();
  }
  const peak = (process.resourceUsage().maxRSS * 1024) / MIB;
  const half = rssAt.slice(Math.floor(rssAt.length / 2));
  console.log(
    `peak RSS ${peak.toFixed(0)} MiB; RSS over the second half of the run ${(Math.min(...half) / MIB).toFixed(0)}-${(Math.max(...half) / MIB).toFixed(0)} MiB; ` +
      `${settled} results (${failed} not complete, ${repeated} repeated)`,
  );
  return settled === o.streams && failed === 0 && repeated === 0;
}

try {
  const ok = await measure(options());
  if (!ok) console.error('not every stream came back complete exactly once');
  process.exitCode = ok ? 0 : 1;
} catch (error) {
  console.error((error as Error).message);
  console.error('usage: pnpm bench:memory [--streams N] [--max-in-flight K] [--threads T] [--samples S]');
  process.exitCode = 2;
}
