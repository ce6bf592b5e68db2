// Streams against raw Piscina and a sequential loop (dogfood: a figure bench). Gated: the
// CPU-bound run against raw Piscina, and the empty round trip, whose raw side is bimodal
// (Piscina wakes in ~17 or ~50 us depending on the process), hence a doubling's tolerance:
// against the 1.20x baseline (resident lanes), a round trip past 2.4x raw Piscina fails.
import { defineBench } from '@tributary/bench';
import { streams } from '../dist/suites/streams.js';

export default defineBench({
  name: 'streams',
  measure: (ctx) => streams.run(ctx),
  gate: {
    'streams.round-trip': 1.0,
    'streams.cpu-vs-piscina': 0.1,
  },
});
