/**
 * The warm-up stream: every stream of a warm-up run meets the others at the run's barrier,
 * which can only happen once each is on a thread of its own, so every thread is started and
 * has loaded the stream runtime when the run ends.
 */
import type { StreamContext } from './types.js';

/** Meets the other warm-up streams. */
export default function warmUp(_input: unknown, ctx: StreamContext): void {
  ctx.barrier.wait({ timeoutMs: 60_000 });
}
