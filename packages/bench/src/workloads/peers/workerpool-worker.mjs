// workerpool's worker script: registers the same task functions every peer runs (imported,
// not copied: a copied loop JITs differently and would make one peer look faster).
import workerpool from 'workerpool';
import empty from '../empty.mjs';
import work from '../work.mjs';

workerpool.worker({ empty, work });
