/** `progressive` convergence: the callback hears of each result as its stream settles. */
import type { StreamResult } from '../types.js';
import { quiet, type ConvergenceStrategy } from './strategy.js';

export const progressiveConvergence: ConvergenceStrategy<StreamResult> = {
  create: ({ emit }) => ({ ...quiet, onResult: emit }),
};
