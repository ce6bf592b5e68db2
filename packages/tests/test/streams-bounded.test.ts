// stream(source, { maxInFlight }): specs pulled from any iterable as results are consumed, never
// more than maxInFlight in flight (the source counts it), early exit cancels and closes the source.
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, StreamCoordinator, type StreamSpec } from '@tributary/runtime';
import { closeAfterEach, streamModule } from './helpers.js';

const track = closeAfterEach();

/** A source of `n` echo specs that records the most specs given out but not yet consumed. */
function countedSource(n: number): { specs: Generator<StreamSpec>; consumed: () => void; peak: () => number; closed: () => boolean } {
  let given = 0;
  let consumed = 0;
  let peak = 0;
  let closed = false;
  function* specs(): Generator<StreamSpec> {
    try {
      for (let i = 0; i < n; i++) {
        given++;
        peak = Math.max(peak, given - consumed);
        yield { id: `s${i}`, task: streamModule('echo.mjs'), input: i };
      }
    } finally {
      closed = true;
    }
  }
  return { specs: specs(), consumed: () => void consumed++, peak: () => peak, closed: () => closed };
}

describe('stream() over any source with maxInFlight', () => {
  it('keeps at most maxInFlight streams in flight over 600 specs, and yields every result once', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    const source = countedSource(600);
    const inputs = new Set<unknown>();
    for await (const r of coordinator.stream(source.specs, { maxInFlight: 16 })) {
      expect(r.status).toBe('complete');
      inputs.add((r.value as { input: unknown }).input);
      source.consumed();
    }
    expect(inputs.size).toBe(600);
    expect(source.peak()).toBeLessThanOrEqual(16);
    expect(source.peak()).toBeGreaterThanOrEqual(4);
  });

  it('takes an async iterable', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2 }));
    async function* specs(): AsyncGenerator<StreamSpec> {
      for (let i = 0; i < 20; i++) yield { id: `a${i}`, durationMs: 1 };
    }
    let count = 0;
    for await (const r of coordinator.stream(specs(), { maxInFlight: 5 })) count += r.status === 'complete' ? 1 : 0;
    expect(count).toBe(20);
  });

  it('leaving the loop cancels what runs and closes the source', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 2, cancelGraceMs: 50 }));
    const source = countedSource(1_000_000);
    let seen = 0;
    for await (const r of coordinator.stream(source.specs, { maxInFlight: 8 })) {
      if (++seen === 10) break;
      expect(r.status).toBe('complete');
    }
    expect(source.closed()).toBe(true);
    expect(coordinator.registry.list().filter((r) => r.state === 'running' || r.state === 'queued')).toEqual([]);
  });

  it('refuses what is not a source and a bad maxInFlight', async () => {
    const coordinator = track(new StreamCoordinator({ maxThreads: 1 }));
    // Refused at the call, before any stream starts.
    expect(() => coordinator.stream(42 as never)).toThrow(InvalidArgumentError);
    expect(() => coordinator.stream([{ id: 'a' }], { maxInFlight: 0 })).toThrow(/options.maxInFlight/);
  });
});
