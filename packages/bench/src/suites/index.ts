/** Every benchmark suite, in the order `pnpm bench` runs them (the CPU-bound scaling workload is a bench file: bench/cpu-bound.bench.mjs). */
import type { Suite } from '../types.js';
import { files } from './files.js';
import { peers } from './peers.js';
import { primitives } from './primitives.js';
import { protocols } from './protocols.js';
import { streams } from './streams.js';

export const suites: readonly Suite[] = [primitives, streams, protocols, files, peers];
