/** Paths of the plain-JavaScript workloads and the calibration of the CPU work. */
// @ts-expect-error plain JavaScript workload without declarations; typed by the cast below
import * as work from './work.mjs';

/** Module URL of the fixed-work stream/task. */
export const WORK = new URL('./work.mjs', import.meta.url).href;
/** Module URL of the empty stream/task. */
export const EMPTY = new URL('./empty.mjs', import.meta.url).href;

const burn = (work as { burn: (iterations: number) => number }).burn;

/** Runs the fixed work on this thread. */
export function burnHere(iterations: number): number {
  return burn(iterations);
}

/** Iterations that take about `ms` on this thread (median of 5 probes). */
export function calibrate(ms: number): number {
  return (work as { calibrate: (ms: number) => number }).calibrate(ms);
}
