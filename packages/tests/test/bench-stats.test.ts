// The bench package's statistics and gate decisions on fixed sample sets: no timing here.
// Reference p-values are scipy.stats.mannwhitneyu's (exact, or asymptotic with continuity).
import { describe, expect, it } from 'vitest';
import { karpFlatt, mannWhitneyU, median, medianCI, quantile, seedOverhead } from '../../bench/src/stats/index.js';
import { judgeMetric } from '../../bench/src/tool/gate.js';
import type { Metric } from '../../bench/src/tool/result.js';

describe('order statistics', () => {
  it('median and quantiles interpolate between order statistics', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(quantile([10, 20, 30, 40, 50], 0.25)).toBe(20);
    expect(quantile([0, 10], 0.9)).toBeCloseTo(9);
  });

  it('medianCI gives the binomial order statistics around the median', () => {
    const ci = medianCI(Array.from({ length: 20 }, (_, i) => 20 - i)); // 1..20, shuffled order
    expect(ci).toEqual({ median: 10.5, low: 5, high: 16 });
    const small = medianCI([3, 9, 1, 5, 7]);
    expect(small).toEqual({ median: 5, low: 1, high: 9 }); // few samples: the full range
  });
});

describe('Mann-Whitney U', () => {
  it('matches the exact distribution on small samples without ties', () => {
    const apart = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(apart).toMatchObject({ u: 0, exact: true });
    expect(apart.p).toBeCloseTo(0.007936507936507936, 12);
    expect(mannWhitneyU([1, 3, 5, 7, 9], [2, 4, 6, 8, 10]).p).toBeCloseTo(0.6904761904761905, 12);
    const shifted = mannWhitneyU([1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6], [1.25, 1.35, 1.45, 1.55, 1.65, 1.75, 1.85]);
    expect(shifted.u).toBe(10);
    expect(shifted.p).toBeCloseTo(0.07284382284382285, 12);
  });

  it('is symmetric in its samples', () => {
    const a = [3.1, 2.2, 5.4, 4.0];
    const b = [6.5, 7.1, 2.9, 8.8, 9.0];
    expect(mannWhitneyU(a, b).p).toBeCloseTo(mannWhitneyU(b, a).p, 12);
    expect(mannWhitneyU(a, b).u + mannWhitneyU(b, a).u).toBe(a.length * b.length);
  });

  it('uses the normal approximation with tie correction when values tie or samples are large', () => {
    const ties = mannWhitneyU([1, 1, 2, 2, 3], [2, 3, 3, 4, 4, 5]);
    expect(ties).toMatchObject({ u: 3, exact: false });
    expect(ties.p).toBeCloseTo(0.031633423039876964, 6);
    const large = mannWhitneyU(Array.from({ length: 30 }, (_, i) => i), Array.from({ length: 25 }, (_, i) => i + 10.5));
    expect(large).toMatchObject({ u: 190, exact: false });
    expect(large.p).toBeCloseTo(0.001817006281075084, 5);
    expect(mannWhitneyU([2, 2, 2], [2, 2]).p).toBe(1);
  });
});

describe('scaling figures', () => {
  it('computes the seed overhead and the Karp-Flatt serial fraction', () => {
    expect(seedOverhead(60, 100, 2)).toBeCloseTo(10 / 60, 12);
    expect(seedOverhead(50, 100, 2)).toBe(0);
    expect(karpFlatt(1.6, 2)).toBeCloseTo(0.25, 12);
    expect(karpFlatt(4, 4)).toBe(0);
    expect(karpFlatt(1, 4)).toBeCloseTo(1, 12);
    expect(karpFlatt(1.2, 1)).toBeNaN();
  });
});

describe('the gate on fixed samples', () => {
  const metric = (better: Metric['better'], samples: number[]): Metric => ({
    id: '2t.speedup',
    description: 'fixed',
    better,
    unit: 'x',
    tolerance: 0.2,
    absolute: false,
    value: median(samples),
    samples,
  });
  const baseline = metric('higher', [1.78, 1.81, 1.84, 1.86, 1.8, 1.83, 1.79]);

  it('calls a regression when past tolerance and significant', () => {
    // Speedup down by a third, every sample below every baseline sample.
    const now = metric('higher', [1.2, 1.22, 1.19, 1.25, 1.18, 1.21, 1.23]);
    expect(judgeMetric(baseline, now)).toMatchObject({ status: 'regressed' });
    expect(judgeMetric(baseline, now).worse).toBeCloseTo(1 - 1.21 / 1.81, 12);
  });

  it('passes a change within tolerance even when it is significant', () => {
    const now = metric('higher', [1.6, 1.62, 1.61, 1.63, 1.59, 1.64, 1.6]);
    const verdict = judgeMetric(baseline, now);
    expect(verdict.p).toBeLessThan(0.05);
    expect(verdict.status).toBe('ok');
  });

  it('calls a median past tolerance without significance noisy, not a regression', () => {
    const now = metric('higher', [0.9, 1.85, 1.0, 1.9, 1.1, 1.95, 1.2]);
    expect(judgeMetric(baseline, now)).toMatchObject({ status: 'noisy' });
  });

  it('reads the direction: a lower-is-better ratio that rises is worse', () => {
    const before = metric('lower', [1.0, 1.01, 0.99, 1.02, 1.0, 0.98, 1.01]);
    const after = metric('lower', [1.4, 1.42, 1.38, 1.45, 1.41, 1.39, 1.43]);
    expect(judgeMetric(before, after)).toMatchObject({ status: 'regressed' });
    expect(judgeMetric(after, before)).toMatchObject({ status: 'ok' });
  });
});
