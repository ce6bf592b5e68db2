/**
 * The convergence types. Adding one is a new file exporting a {@link ConvergenceStrategy},
 * plus its name in {@link CONVERGENCE_TYPES} and its entry in `STRATEGIES` below (the
 * `satisfies` clause fails to compile until both agree). The option types, the validator and
 * the callbacks' types all derive from these two.
 */
import { barrierConvergence } from './barrier.js';
import { checkpointConvergence } from './checkpoint.js';
import { progressiveConvergence } from './progressive.js';
import type { Convergence, ConvergenceSettings, ConvergenceStrategy } from './strategy.js';

/** The convergence types, in the order error messages list them. */
export const CONVERGENCE_TYPES = ['barrier', 'progressive', 'checkpoint'] as const;

/** How a run converges: `barrier` (all at once), `progressive` (each as it settles), `checkpoint` (aligned checkpoints). */
export type ConvergenceType = (typeof CONVERGENCE_TYPES)[number];

const STRATEGIES = {
  barrier: barrierConvergence,
  progressive: progressiveConvergence,
  checkpoint: checkpointConvergence,
} satisfies { readonly [K in ConvergenceType]: ConvergenceStrategy<never> };

/** What the callback of convergence type `K` receives. */
export type ConvergenceEvent<K extends ConvergenceType> = (typeof STRATEGIES)[K] extends ConvergenceStrategy<infer E> ? E : never;

/** A run's convergence of type `type`. */
export function createConvergence<K extends ConvergenceType>(type: K, settings: ConvergenceSettings<ConvergenceEvent<K>>): Convergence {
  return (STRATEGIES[type] as ConvergenceStrategy<ConvergenceEvent<K>>).create(settings);
}

export type { Convergence, RunView } from './strategy.js';
