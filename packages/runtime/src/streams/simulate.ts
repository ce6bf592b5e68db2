/**
 * The built-in `simulate` stream: burns CPU for about `durationMs`, beating, reporting progress
 * and stopping at checkpoints as it goes. The spec's scenarios, the validation report and the
 * benchmarks use it as a stand-in for real CPU-bound work.
 */
import type { StreamContext } from './types.js';

/** Work between two safe points: about a millisecond on a current core. */
const SLICE_ITERATIONS = 20_000;

/** What `simulate` returns. */
export interface SimulateResult {
  readonly durationMs: number;
  /** Arithmetic slices completed (a checksum of work done). */
  readonly slices: number;
}

/** Burns CPU for `durationMs`, calling heartbeat/progress/checkpoint between slices. */
export function simulate(durationMs: number, ctx: StreamContext): SimulateResult {
  const start = Date.now();
  let slices = 0;
  let sink = 0;
  for (;;) {
    const elapsed = Date.now() - start;
    if (elapsed >= durationMs) break;
    for (let i = 1; i <= SLICE_ITERATIONS; i++) sink += Math.sqrt(i * slices + i);
    slices++;
    ctx.progress(Math.min(1, (Date.now() - start) / durationMs));
    ctx.checkpoint();
  }
  ctx.progress(1);
  // `sink` is folded into the result so the engine cannot drop the arithmetic.
  return { durationMs, slices: sink > 0 ? slices : slices + 1 };
}
