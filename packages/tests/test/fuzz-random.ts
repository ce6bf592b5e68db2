/**
 * Seeded randomness for property and fuzz tests: the seed comes from `TRIBUTARY_SEED` when set
 * (to replay a failure) or is drawn fresh, and is printed so any failing run can be replayed.
 */

/** A seeded source of random choices (mulberry32: small, fast, good enough for test inputs). */
export interface Random {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  below(n: number): number;
  /** One element of `items`. */
  pick<T>(items: readonly T[]): T;
}

/** A {@link Random} for the test named `label`, with its seed printed. */
export function seeded(label: string): Random {
  const fromEnv = process.env.TRIBUTARY_SEED;
  const seed = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
  console.log(`${label}: seed ${seed} (replay with TRIBUTARY_SEED=${seed})`);
  let state = seed;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const below = (n: number): number => Math.floor(next() * n);
  return { seed, next, below, pick: (items) => items[below(items.length)]! };
}
