// The bench package's rotated rounds: who runs when, and which time a sample records.
import { describe, expect, it } from 'vitest';
import { measureRotated } from '../../bench/src/rotate.js';

describe('measureRotated', () => {
  it('starts round r with contender r mod k and skips the warm-up rounds', async () => {
    const order: string[] = [];
    const contender = (name: string) => ({ name, run: () => void order.push(name) });
    const samples = await measureRotated([contender('a'), contender('b'), contender('c')], { rounds: 3, warmup: 1 });
    expect(order.join('')).toBe('abc' + 'bca' + 'cab' + 'abc');
    expect(samples.map((s) => s.length)).toEqual([3, 3, 3]);
  });

  it('records what a contender that times itself reports, not its wall time', async () => {
    let call = 0;
    // Idles 20 ms it does not count, and reports a different figure each round.
    const self = {
      name: 'self',
      timesItself: true,
      run: async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return ++call * 0.5;
      },
    };
    const wall = { name: 'wall', run: () => new Promise((resolve) => setTimeout(resolve, 20)) };
    const [own, timed] = await measureRotated([self, wall], { rounds: 3, warmup: 1 });
    expect(own).toEqual([1, 1.5, 2]);
    // Wall time counts the whole run, idling included.
    for (const ms of timed!) expect(ms).toBeGreaterThanOrEqual(19);
  });
});
