/** Every benchmark suite, in the order `pnpm bench` runs them. */
import type { Suite } from '../types.js';
import { files } from './files.js';
import { primitives } from './primitives.js';
import { protocols } from './protocols.js';
import { scaling } from './scaling.js';
import { streams } from './streams.js';

export const suites: readonly Suite[] = [primitives, streams, protocols, files, scaling];
