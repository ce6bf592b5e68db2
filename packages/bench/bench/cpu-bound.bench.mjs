// The project's CPU-bound workload as a bench file of the shipped API (dogfood): streams of
// ~50 ms of fixed integer hashing, sequential vs raw Piscina vs Tributary at 1, 2, 4 and all
// cores. `pnpm bench` runs it through tributary-bench; users write theirs the same way.
import { availableParallelism } from 'node:os';
import { defineBench } from '@tributary/bench';
import { calibrate } from '../src/workloads/work.mjs';

const iterations = calibrate(50);
// Four streams a core, at least 8: with a fixed 8 a machine of 16 cores could show no more than
// 8x (seen on a 16-core box), whatever the pools did.
const streams = Math.max(8, 4 * availableParallelism());

export default defineBench({
  name: 'cpu-bound',
  task: '../src/workloads/work.mjs',
  inputs: () => Array.from({ length: streams }, () => ({ iterations })),
  threads: [1, 2, 4, 'max'],
  rounds: 7,
});
