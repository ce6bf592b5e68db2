// The project's CPU-bound workload as a bench file of the shipped API (dogfood): 8 streams of
// ~50 ms of fixed integer hashing, sequential vs raw Piscina vs Tributary at 1, 2, 4 and all
// cores. `pnpm bench` runs it through tributary-bench; users write theirs the same way.
import { defineBench } from '@tributary/bench';
import { calibrate } from '../src/workloads/work.mjs';

const iterations = calibrate(50);

export default defineBench({
  name: 'cpu-bound',
  task: '../src/workloads/work.mjs',
  inputs: () => Array.from({ length: 8 }, () => ({ iterations })),
  threads: [1, 2, 4, 'max'],
  rounds: 7,
});
