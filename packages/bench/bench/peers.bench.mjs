// Tributary beside Piscina, Tinypool, workerpool and Poolifier on the same task functions
// (dogfood: a figure bench). The suite rotates the five peers through its own rounds, so one
// measure() is already a median of rounds; reported, not gated (the peers are not ours).
import { defineBench } from '@tributary/bench';
import { peers } from '../dist/suites/peers.js';

export default defineBench({
  name: 'peers',
  measure: (ctx) => peers.run(ctx),
  gate: {},
  rounds: 1,
});
