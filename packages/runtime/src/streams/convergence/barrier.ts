/** `barrier` convergence: the callback hears once, with every result, when the last stream settles. */
import type { StreamResult } from '../types.js';
import { quiet, type ConvergenceStrategy } from './strategy.js';

export const barrierConvergence: ConvergenceStrategy<readonly StreamResult[]> = {
  create: ({ emit }) => ({
    ...quiet,
    async onEnd(results) {
      emit(results);
    },
  }),
};
