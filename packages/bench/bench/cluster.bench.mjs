// Streams across two local tributary-node processes on Redis and BullMQ, against one local
// StreamCoordinator (dogfood: a figure bench). The suite starts its own redis-server on a Unix
// socket and rotates both sides through its own rounds, so one measure() is already a median
// of rounds. Reported, not gated: it needs redis-server, and the cluster's per-stream cost is
// wake-ups of blocked Redis clients, which a busy machine delays at will.
import { defineBench } from '@tributary/bench';
import { cluster } from '../dist/suites/cluster.js';

export default defineBench({
  name: 'cluster',
  measure: (ctx) => cluster.run(ctx),
  gate: {},
  rounds: 1,
});
