// File locks against Mutex (dogfood: a figure bench). Reported only: file-system-bound
// operations against an in-memory lock swing 2-12x with the machine's other load.
import { defineBench } from '@tributary/bench';
import { files } from '../dist/suites/files.js';

export default defineBench({
  name: 'files',
  measure: (ctx) => files.run(ctx),
  gate: {},
  rounds: 3,
});
