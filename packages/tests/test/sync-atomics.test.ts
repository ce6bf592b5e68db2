import { describe, expect, it } from 'vitest';
import { Semaphore } from '@tributary/runtime';
import { runWorker } from './helpers.js';

describe('Atomics fault hook', () => {
  it('sees a queued worker park, and what it throws reaches the waiting call', async () => {
    const s = new Semaphore(1);
    // Held here: the worker must queue and park.
    expect(s.tryAcquire(1)).toBe(true);
    const r = await runWorker<{ seen: [string, number][]; error?: string; stats: { waits: number; notifies: number } }>('sync-hook.mjs', { handle: s.handle });
    expect(r.error).toBe('injected at wait');
    // Counted in order from 0, and every park was a blocking wait in this worker.
    expect(r.seen.map(([, n]) => n)).toEqual(r.seen.map((_, i) => i));
    // One park, which the hook failed; the waiter then left the queue (a notify to wake the rest).
    expect(r.seen.filter(([op]) => op === 'wait')).toHaveLength(1);
    expect(r.stats.waits).toBe(1);
    expect(r.stats.notifies).toBe(r.seen.filter(([op]) => op === 'notify').length);
    // The failed waiter left the queue: the permit comes back and is takeable at once.
    s.release(1);
    expect(s.tryAcquire(1)).toBe(true);
  });
});
