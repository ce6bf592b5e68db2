// The traced demo stream: CPU work between checkpoints, a shared Mutex taken under
// contention, two meetings at a barrier of the working streams (not the run's: the staller's
// restart breaks that one, by design), and (for one stream) a stall on the first attempt so
// the guardian restarts it. Every kind of event the tracer knows shows up.
import { Barrier, Mutex } from '@tributary/runtime';

function work(ms, ctx) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 5_000; i++) x += Math.sqrt(i + x);
    ctx.progress(0.5);
    ctx.checkpoint();
  }
  return x;
}

export default function tracedDemo({ lock, meet, stall }, ctx) {
  if (stall && ctx.attempt === 1) {
    ctx.heartbeat();
    const end = Date.now() + 30_000;
    let x = 0;
    while (Date.now() < end) x += Math.sqrt(x + 1);
  }
  const mutex = Mutex.from(lock);
  for (let round = 0; round < 2; round++) {
    work(60, ctx);
    for (let i = 0; i < 3; i++) {
      const guard = mutex.lock({ timeoutMs: 10_000 });
      work(5, ctx);
      guard.unlock();
    }
    if (meet) Barrier.from(meet).wait({ timeoutMs: 10_000 });
  }
  return ctx.attempt;
}
