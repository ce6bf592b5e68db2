// workerpool's worker script: registers the same task functions every peer runs (imported,
// not copied: a copied loop JITs differently and would make one peer look faster).
import workerpool from 'workerpool';
import byteLength from '../byte-length.mjs';
import empty from '../empty.mjs';
import sha256 from '../sha256.mjs';
import work from '../work.mjs';

workerpool.worker({ empty, work, sha256, 'byte-length': byteLength });
