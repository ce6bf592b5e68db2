// Chaos for the streams layer: runs of random shape (barrier parties, CPU work, failures,
// cooperative and deaf streams), random thread and spare limits, cancelled or timed out at
// random moments, sometimes two at once on one coordinator. Whatever happens, every run settles
// with exactly one result per stream, in input order, with a status it can explain, the pool
// drains (nothing left running or queued) and the coordinator takes the next run. Seeded.
import { expect, it } from 'vitest';
import { StreamCoordinator, type StreamResult, type StreamSpec } from '@tributary/runtime';
import { seeded, type Random } from './fuzz-random.js';
import { barrierParties, streamModule } from './helpers.js';

/** How long the rounds may take in all; then the test stops starting new ones. */
const BUDGET_MS = 12_000;

/** Errors a chaotic run may legitimately end a stream with. */
const EXPLAINED = new Set(['AbortedError', 'TimeoutError', 'BrokenBarrierError', 'DeadlockError', 'RangeError', 'Error', 'StreamError']);

function randomRun(random: Random, round: number): { specs: StreamSpec[]; parties: number } {
  const parties = random.below(5);
  const specs = barrierParties(round, parties);
  const others = 1 + random.below(6);
  for (let i = 0; i < others; i++) {
    const kind = random.pick(['cpu', 'cpu', 'throws', 'cooperative', 'deaf', 'echo'] as const);
    const id = `r${round}-${kind}${i}`;
    const timeoutMs = random.below(4) === 0 ? 20 + random.below(80) : undefined;
    const spec: StreamSpec =
      kind === 'cpu'
        ? { id, durationMs: random.below(40) }
        : kind === 'throws'
          ? { id, task: streamModule('throws.mjs'), input: i }
          : kind === 'cooperative'
            ? { id, task: streamModule('beat-until-aborted.mjs') }
            : kind === 'deaf'
              ? { id, task: streamModule('spin.mjs'), input: { ms: 300 } }
              : { id, task: streamModule('echo.mjs'), input: i };
    // A stream that never stops by itself always gets a bound, from its spec or from the run.
    specs.push(timeoutMs === undefined ? spec : { ...spec, timeoutMs });
  }
  // Shuffle: barrier parties are not always first in the queue.
  for (let i = specs.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [specs[i], specs[j]] = [specs[j]!, specs[i]!];
  }
  return { specs, parties };
}

function checkResults(specs: readonly StreamSpec[], results: readonly StreamResult[], seed: number): void {
  const where = `seed ${seed}`;
  expect(results.map((r) => r.id), where).toEqual(specs.map((s) => s.id));
  for (const r of results) {
    expect(['complete', 'failed', 'cancelled'], `${where}: ${r.id}`).toContain(r.status);
    if (r.status !== 'complete') expect(EXPLAINED, `${where}: ${r.id} ${r.error?.name}: ${r.error?.message}`).toContain(r.error?.name);
    expect(r.completedAt, where).toBeGreaterThanOrEqual(r.startedAt);
  }
}

it('random runs cancelled and timed out at random moments always settle, once per stream, and leave the pool drained', { timeout: 90_000 }, async () => {
  const random = seeded('chaos streams');
  const started = Date.now();
  let rounds = 0;
  while (Date.now() - started < BUDGET_MS) {
    const coordinator = new StreamCoordinator({
      maxThreads: 1 + random.below(3),
      maxSpareThreads: random.pick([0, 1, 4, 256]),
      cancelGraceMs: random.pick([0, 20, 100]),
    });
    try {
      const concurrent = random.below(3) === 0 ? 2 : 1;
      const runs = Array.from({ length: concurrent }, (_, k) => {
        const { specs } = randomRun(random, rounds * 2 + k);
        const ac = new AbortController();
        const fate = random.below(3);
        // 0: abort at a random moment; 1: a run timeout; 2: left alone (deaf streams carry their own bound below).
        if (fate === 0) setTimeout(() => ac.abort(new Error('chaos abort')), random.below(120));
        const options = fate === 1 ? { timeoutMs: 20 + random.below(150) } : { signal: ac.signal, timeoutMs: 2_000 };
        return { specs, done: coordinator.executeParallel(specs, options) };
      });
      for (const run of runs) checkResults(run.specs, await run.done, random.seed);
      const m = coordinator.metrics();
      expect({ running: m.running, queued: m.queued }, `seed ${random.seed}`).toEqual({ running: 0, queued: 0 });
      expect(coordinator.registry.list().filter((r) => r.state === 'running' || r.state === 'queued'), `seed ${random.seed}`).toEqual([]);
      // Still usable after whatever happened.
      expect((await coordinator.executeParallel([{ id: 'after', durationMs: 1 }]))[0]!.status, `seed ${random.seed}`).toBe('complete');
    } finally {
      await coordinator.close();
    }
    rounds++;
  }
  console.log(`chaos streams: ${rounds} rounds (seed ${random.seed})`);
  expect(rounds).toBeGreaterThan(0);
});
