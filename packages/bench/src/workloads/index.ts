/** Paths of the plain-JavaScript workloads and the calibration of the CPU work. */
// @ts-expect-error plain JavaScript workload without declarations; typed by the cast below
import * as work from './work.mjs';

/** Module URL of the plain-JavaScript workload `name` (`name.mjs` in this folder). */
export function workloadUrl(name: string): string {
  return new URL(`./${name}.mjs`, import.meta.url).href;
}

/** Module URL of the fixed-work stream/task. */
export const WORK = workloadUrl('work');
/** Module URL of the empty stream/task. */
export const EMPTY = workloadUrl('empty');

const burn = (work as { burn: (iterations: number) => number }).burn;

/** Runs the fixed work on this thread. */
export function burnHere(iterations: number): number {
  return burn(iterations);
}

/** Iterations that take about `ms` on this thread (median of 5 probes). */
export function calibrate(ms: number): number {
  return (work as { calibrate: (ms: number) => number }).calibrate(ms);
}
