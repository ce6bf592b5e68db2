/**
 * The statistics behind every verdict of the bench package: medians with distribution-free
 * confidence intervals, the Mann-Whitney U test, and the parallel-scaling figures. A few lines
 * each and unit-tested on fixed sample sets, so no dependency is needed for them.
 */

/** The `q` quantile (0..1) of `values`, linear between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** A median with its 95% confidence interval. */
export interface MedianCI {
  readonly median: number;
  readonly low: number;
  readonly high: number;
}

/**
 * The median and a distribution-free 95% confidence interval for it: the order statistics at
 * ranks n/2 -+ 1.96 sqrt(n)/2 (the binomial interval, normal approximation). Timing samples
 * are skewed (a busy machine only ever adds time), so no normality is assumed. Rounded
 * outwards, so small samples (under about 9) get their full range.
 */
export function medianCI(values: readonly number[]): MedianCI {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const half = (1.96 * Math.sqrt(n)) / 2;
  const lowRank = Math.max(1, Math.floor(n / 2 - half));
  const highRank = Math.min(n, Math.ceil(n / 2 + half + 1));
  return { median: median(sorted), low: sorted[lowRank - 1]!, high: sorted[highRank - 1]! };
}

/** Result of a two-sided Mann-Whitney U test. */
export interface MannWhitney {
  /** U of the first sample: how many (a, b) pairs have a > b (ties count one half). */
  readonly u: number;
  /** Two-sided p-value. */
  readonly p: number;
  /** Whether the p-value came from the exact distribution (small samples, no ties). */
  readonly exact: boolean;
}

/**
 * Two-sided Mann-Whitney U test of `a` against `b`: do they come from the same distribution?
 * Exact for small samples without ties (the U distribution by counting), otherwise the normal
 * approximation with tie and continuity corrections.
 */
export function mannWhitneyU(a: readonly number[], b: readonly number[]): MannWhitney {
  const n = a.length;
  const m = b.length;
  if (n === 0 || m === 0) throw new RangeError('Mann-Whitney U needs two non-empty samples');
  let u = 0;
  for (const x of a) for (const y of b) u += x > y ? 1 : x === y ? 0.5 : 0;
  const all = [...a, ...b].sort((x, y) => x - y);
  let tieTerm = 0;
  for (let i = 0; i < all.length; ) {
    let j = i;
    while (j < all.length && all[j] === all[i]) j++;
    const t = j - i;
    tieTerm += t * t * t - t;
    i = j;
  }
  if (tieTerm === 0 && n + m <= 40) return { u, p: exactP(u, n, m), exact: true };
  const mean = (n * m) / 2;
  const N = n + m;
  const variance = ((n * m) / 12) * (N + 1 - tieTerm / (N * (N - 1)));
  if (variance === 0) return { u, p: 1, exact: false };
  const z = Math.max(0, Math.abs(u - mean) - 0.5) / Math.sqrt(variance);
  return { u, p: Math.min(1, 2 * (1 - normalCdf(z))), exact: false };
}

/** Two-sided exact p-value of U for sample sizes n and m (counts of rank arrangements). */
function exactP(u: number, n: number, m: number): number {
  // counts[k][j]: arrangements of k values of the first sample among the rest with U = j,
  // built one element of the second sample at a time (the classic recurrence).
  let counts: number[][] = Array.from({ length: n + 1 }, (_, k) => (k === 0 ? [1] : [1]));
  for (let mm = 1; mm <= m; mm++) {
    const next: number[][] = [[1]];
    for (let k = 1; k <= n; k++) {
      const size = k * mm + 1;
      const row = new Array<number>(size).fill(0);
      // f(k, mm, j) = f(k - 1, mm, j - mm) + f(k, mm - 1, j)
      const withTop = next[k - 1]!;
      const without = counts[k]!;
      for (let j = 0; j < size; j++) row[j] = (j - mm >= 0 ? (withTop[j - mm] ?? 0) : 0) + (without[j] ?? 0);
      next.push(row);
    }
    counts = next;
  }
  const dist = counts[n]!;
  const total = dist.reduce((s, c) => s + c, 0);
  const mean = (n * m) / 2;
  const tail = Math.min(u, n * m - u);
  let below = 0;
  for (let j = 0; j <= Math.floor(tail + 1e-9) && j < dist.length; j++) below += dist[j]!;
  return u === mean ? 1 : Math.min(1, (2 * below) / total);
}

/** The standard normal distribution function (Abramowitz-Stegun 7.1.26, error < 1.5e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return z >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** The seed's overhead: (parallel - sequential / threads) / parallel. */
export function seedOverhead(parallelMs: number, sequentialMs: number, threads: number): number {
  return (parallelMs - sequentialMs / threads) / parallelMs;
}

/**
 * The Karp-Flatt metric: the experimentally determined serial fraction
 * (1/speedup - 1/threads) / (1 - 1/threads). Undefined (NaN) on one thread.
 */
export function karpFlatt(speedup: number, threads: number): number {
  if (threads <= 1) return Number.NaN;
  return (1 / speedup - 1 / threads) / (1 - 1 / threads);
}
