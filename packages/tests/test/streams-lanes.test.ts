// Lanes: a run with more streams than threads and nothing that stops streams one by one goes
// to the pool as a few lanes, each running many streams. Results still arrive one by one as
// each stream settles, a stream that kills its thread fails alone (its batch-mates' results
// are intact, each exactly once), inputs or results that cannot travel fail only their own
// stream, and a cancelled laned run settles at once. A seeded chaos loop checks all of it on
// runs of random shape.
import { describe, expect, it } from 'vitest';
import { CallbackError, StreamCoordinator, type StreamResult, type StreamSpec } from '@tributary/runtime';
import { seeded, type Random } from './fuzz-random.js';
import { barrierParties, closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();
const ECHO = streamModule('echo.mjs');
const CRASH = streamModule('crash.mjs');

function echoes(n: number, prefix = 's'): StreamSpec[] {
  return Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, task: ECHO, input: i }));
}

/** Every spec has exactly one result, in input order. */
function expectOnePerStream(specs: readonly StreamSpec[], results: readonly StreamResult[], seed?: number): void {
  expect(results.map((r) => r.id), seed === undefined ? undefined : `seed ${seed}`).toEqual(specs.map((s) => s.id));
}

describe('lanes', () => {
  it('a run of 500 streams on 2 threads goes in lanes; every result comes back once, in order', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const specs = echoes(500);
    const results = await coordinator.executeParallel(specs);
    expectOnePerStream(specs, results);
    expect(results.map((r) => (r.value as { input: number }).input)).toEqual(specs.map((_, i) => i));
    expect(results.every((r) => r.status === 'complete' && r.attempts === 1)).toBe(true);
    const { lanes } = coordinator.lastRunStats;
    expect(lanes).toBeGreaterThanOrEqual(1);
    expect(lanes).toBeLessThanOrEqual(3);
    expect(coordinator.metrics()).toMatchObject({ running: 0, queued: 0, completed: 500 });
    expect(coordinator.registry.list().every((r) => r.state === 'completed')).toBe(true);
    // A run whose streams may be stopped one by one (here: a stream timeout) sends one task per stream.
    await coordinator.executeParallel(echoes(20).map((spec) => ({ ...spec, timeoutMs: 10_000 })));
    expect(coordinator.lastRunStats.lanes).toBe(0);
    // So does a run with heavy inputs: every lane would get a copy of each.
    const heavy = await coordinator.executeParallel(echoes(6).map((spec) => ({ ...spec, input: new Uint8Array(100_000) })));
    expect(heavy.every((r) => r.status === 'complete')).toBe(true);
    expect(coordinator.lastRunStats.lanes).toBe(0);
    const wide = new Map(Array.from({ length: 10_000 }, (_, i) => [i, i]));
    await coordinator.executeParallel(echoes(6).map((spec) => ({ ...spec, input: wide })));
    expect(coordinator.lastRunStats.lanes).toBe(0);
  });

  it("a stream's result arrives while its lane is still blocked in the next stream", async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, maxSpareThreads: 0 }));
    const flag = new Int32Array(new SharedArrayBuffer(4));
    let released = false;
    let blockerWasBlocked = false;
    coordinator.configureConvergence({
      type: 'progressive',
      callback: (result: StreamResult) => {
        if (result.id !== 'first' || released) return;
        // The blocker runs on the lane's only thread until released here.
        blockerWasBlocked = Atomics.load(flag, 0) === 0;
        released = true;
        Atomics.store(flag, 0, 1);
        Atomics.notify(flag, 0);
      },
    });
    const results = await coordinator.executeParallel([
      { id: 'first', task: ECHO, input: 1 },
      { id: 'blocker', task: streamModule('wait-flag.mjs'), input: { flag: flag.buffer } },
      { id: 'last', task: ECHO, input: 3 },
    ]);
    expect(blockerWasBlocked).toBe(true);
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
    expect(results[1]!.value).toBe('released');
    expect(coordinator.lastRunStats.lanes).toBeGreaterThanOrEqual(1);
  });

  it('a stream that kills its thread fails alone; its batch-mates complete, each once', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, maxSpareThreads: 0 }));
    const specs: StreamSpec[] = Array.from({ length: 12 }, (_, i) => ({
      id: `s${i}`,
      task: CRASH,
      input: i === 4 ? { how: 'exit' } : i === 8 ? { how: 'async-throw' } : i,
    }));
    const results = await coordinator.executeParallel(specs);
    expectOnePerStream(specs, results);
    expect(results[4]).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/exit/) } });
    expect(results[8]).toMatchObject({ status: 'failed', error: { message: 'crashed from a timer' } });
    for (const [i, r] of results.entries()) if (i !== 4 && i !== 8) expect(r).toMatchObject({ status: 'complete', value: i, attempts: 1 });
    // The two dead threads' lanes were replaced.
    expect(coordinator.lastRunStats.lanes).toBeGreaterThanOrEqual(3);
    expect(coordinator.metrics()).toMatchObject({ running: 0, queued: 0 });
  });

  it('an input that cannot be cloned fails its own stream; the rest run, one task each', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const specs: StreamSpec[] = [...echoes(5), { id: 'bad', task: ECHO, input: { fn: () => 1 } }];
    const results = await coordinator.executeParallel(specs);
    expectOnePerStream(specs, results);
    expect(results.slice(0, 5).every((r) => r.status === 'complete')).toBe(true);
    expect(results[5]).toMatchObject({ status: 'failed', error: { name: 'InvalidArgumentError' } });
    expect(coordinator.lastRunStats.lanes).toBe(0);
  });

  it('a result that cannot be sent back fails its own stream; a moved result arrives whole', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    const specs: StreamSpec[] = [
      ...echoes(3),
      { id: 'fn', task: streamModule('fuzz-return.mjs'), input: 'function' },
      { id: 'moved', task: streamModule('make-buffer.mjs'), input: { size: 100_000 } },
    ];
    const results = await coordinator.executeParallel(specs);
    expectOnePerStream(specs, results);
    expect(results[3]).toMatchObject({ status: 'failed', error: { name: 'StreamError', message: expect.stringMatching(/cannot be sent back/) } });
    const bytes = (results[4]!.value as { bytes: Uint8Array }).bytes;
    expect(bytes.length).toBe(100_000);
    expect(bytes[99_999]).toBe(99_999 % 251);
    expect(coordinator.lastRunStats.lanes).toBeGreaterThanOrEqual(1);
  });

  it('a convergence callback that throws cancels the streams no lane has claimed yet', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, maxSpareThreads: 0 }));
    let heard = 0;
    coordinator.configureConvergence({
      type: 'progressive',
      callback: () => {
        heard++;
        throw new Error('callback gives up');
      },
    });
    const specs = echoes(200);
    await expect(coordinator.executeParallel(specs)).rejects.toBeInstanceOf(CallbackError);
    // Streams claimed before the cancel still reported; the rest never ran.
    expect(heard).toBeGreaterThanOrEqual(1);
    const records = coordinator.registry.list();
    expect(records.filter((r) => r.state === 'cancelled').length).toBeGreaterThan(0);
    expect(records.every((r) => r.state === 'completed' || r.state === 'cancelled')).toBe(true);
  });

  it('an aborted laned run settles at once: unclaimed streams cancelled, a deaf one terminated after the grace', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1, maxSpareThreads: 0, cancelGraceMs: 50 }));
    const specs: StreamSpec[] = [...echoes(3, 'early'), { id: 'deaf', task: streamModule('spin.mjs'), input: { ms: 30_000 } }, ...echoes(30)];
    const abort = new AbortController();
    const running = coordinator.executeParallel(specs, { signal: abort.signal });
    while (coordinator.registry.get('deaf')?.state !== 'running') await new Promise((resolve) => setTimeout(resolve, 5));
    abort.abort(new Error('enough'));
    const results = await running;
    expectOnePerStream(specs, results);
    // The three before it had completed: what a lane posted is kept.
    expect(results.slice(0, 3).map((r) => r.status)).toEqual(['complete', 'complete', 'complete']);
    expect(results.slice(3).every((r) => r.status === 'cancelled' && r.error?.message === 'enough')).toBe(true);
    expect(coordinator.lastRunStats.lanes).toBeGreaterThanOrEqual(1);
    // The pool is whole again.
    expect((await coordinator.executeParallel(echoes(4, 'after'))).every((r) => r.status === 'complete')).toBe(true);
  });

  it('closing the coordinator mid-run settles a laned run at once, each stream once', async () => {
    const coordinator = new StreamCoordinator({ maxThreads: 1, maxSpareThreads: 0 });
    const specs: StreamSpec[] = [{ id: 'deaf', task: streamModule('spin.mjs'), input: { ms: 30_000 } }, ...echoes(30)];
    const running = coordinator.executeParallel(specs);
    // Closed once the deaf stream runs (it never checks its signal; only ending its thread stops it).
    while (coordinator.registry.get('deaf')?.state !== 'running') await new Promise((resolve) => setTimeout(resolve, 5));
    await coordinator.close();
    const results = await running;
    expectOnePerStream(specs, results);
    expect(results.every((r) => r.status === 'cancelled')).toBe(true);
  });
});

/** A random laned run: echoes, throwers, thread killers, CPU work and barrier parties. */
function randomRun(random: Random, round: number): StreamSpec[] {
  const specs = barrierParties(round, random.below(4));
  const others = 4 + random.below(40);
  for (let i = 0; i < others; i++) {
    const kind = random.pick(['echo', 'echo', 'echo', 'cpu', 'throws', 'exit', 'async-throw'] as const);
    const id = `r${round}-${kind}${i}`;
    specs.push(
      kind === 'echo'
        ? { id, task: ECHO, input: i }
        : kind === 'cpu'
          ? { id, durationMs: random.below(15) }
          : kind === 'throws'
            ? { id, task: streamModule('throws.mjs'), input: i }
            : { id, task: CRASH, input: { how: kind } },
    );
  }
  // Shuffled, so thread killers and barrier parties land anywhere in the lanes' claim order.
  for (let i = specs.length - 1; i > 0; i--) {
    const j = random.below(i + 1);
    [specs[i], specs[j]] = [specs[j]!, specs[i]!];
  }
  return specs;
}

/** How each kind of stream may end in a chaotic laned run. */
function explained(result: StreamResult): boolean {
  const kind = /^r\d+-([a-z-]+)\d+$/.exec(result.id)?.[1];
  if (kind === 'echo' || kind === 'cpu') return result.status === 'complete' || result.error?.name === 'DeadlockError';
  if (kind === 'throws' || kind === 'exit' || kind === 'async-throw') return result.status === 'failed';
  // A barrier party breaks with any failed batch-mate's barrier, or completes.
  return result.status === 'complete' || result.status === 'failed';
}

it('chaos: random laned runs with thread killers always settle, once per stream, and leave the pool drained', { timeout: 60_000 }, async () => {
  const random = seeded('chaos lanes');
  const started = Date.now();
  let rounds = 0;
  while (Date.now() - started < 6_000) {
    const coordinator = new StreamCoordinator({ maxThreads: 1 + random.below(3), maxSpareThreads: random.below(4) });
    try {
      const specs = randomRun(random, rounds);
      const results = await coordinator.executeParallel(specs);
      expectOnePerStream(specs, results, random.seed);
      const unexplained = results.filter((r) => !explained(r));
      expect(unexplained, `seed ${random.seed}`).toEqual([]);
      for (const r of results) if (/-echo(\d+)$/.test(r.id) && r.status === 'complete') expect(r.value, `seed ${random.seed}`).toMatchObject({ input: Number(/(\d+)$/.exec(r.id)![1]) });
      expect(coordinator.metrics(), `seed ${random.seed}`).toMatchObject({ running: 0, queued: 0 });
      expect((await coordinator.executeParallel(echoes(5, 'after')))[4]!.status, `seed ${random.seed}`).toBe('complete');
    } finally {
      await coordinator.close();
    }
    rounds++;
  }
  console.log(`chaos lanes: ${rounds} rounds (seed ${random.seed})`);
  expect(rounds).toBeGreaterThan(0);
});
