// Heartbeat, state and resource protocols beside raw baselines (dogfood: a figure bench).
// Gated: the heartbeat's cost and its detection latency. state.update and resources.grant
// compare allocation- and promise-bound paths with in-memory primitives: load from elsewhere
// inflates one side only (2-12x swings with no code change on a shared 2-core box), so they
// are reported, not gated.
import { defineBench } from '@tributary/bench';
import { protocols } from '../dist/suites/protocols.js';

export default defineBench({
  name: 'protocols',
  measure: (ctx) => protocols.run(ctx),
  gate: {
    'heartbeat.cost': 0.5,
    'heartbeat.detection': 0.25,
  },
});
