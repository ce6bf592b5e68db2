// Counts primes below `limit` by trial division, reporting progress as it goes.
export default function countPrimes({ from, to }, ctx) {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) { prime = false; break; }
    if (prime) count++;
    if (n % 2_000 === 0) ctx.progress((n - from) / (to - from));
  }
  return count;
}
