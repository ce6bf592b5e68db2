// A fixed amount of CPU work (not a fixed time), so sequential, raw Piscina and Tributary do
// the same work and their wall times compare. Plain JavaScript: raw Piscina loads it as is.

/** Runs `iterations` rounds of integer hashing; returns the hash so nothing is optimised away. */
export function burn(iterations) {
  let h = 2166136261;
  for (let i = 0; i < iterations; i++) {
    h ^= i;
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/** Iterations that take about `ms` on this thread (median of 5 probes, after a JIT warm-up). */
export function calibrate(ms) {
  const probe = 2_000_000;
  burn(probe);
  const times = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    burn(probe);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Math.round((probe * ms) / times[2]);
}

/** The stream / task entry: `{ iterations }` in, hash out. */
export default function work(input) {
  return burn(input.iterations);
}
