// Heartbeat workload: the first attempt beats once, then burns CPU in silence (stuck); the
// guardian's restart runs a second attempt, which completes at once.
export default function stallOnce(_input, ctx) {
  ctx.heartbeat({ stage: 'started' });
  if (ctx.attempt > 1) return ctx.attempt;
  const until = Date.now() + 30_000;
  let sink = 0;
  while (Date.now() < until) sink += Math.sqrt(sink + 2);
  return sink;
}
