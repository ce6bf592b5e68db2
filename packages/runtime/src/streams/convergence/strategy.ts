/**
 * The interface between a run and its convergence strategy. A strategy decides when and how
 * the caller hears of results: all at once (`barrier`), as each stream settles
 * (`progressive`), or at aligned checkpoints (`checkpoint`). The run calls it; it never
 * branches on the convergence type itself.
 */
import type { CheckpointRecord, StreamResult } from '../types.js';
import type { RunMemory } from '../layout.js';
import type { Tracer } from '../tracer.js';

/** What a strategy may look at while the run goes on. */
export interface RunView {
  readonly memory: RunMemory;
  /** Stream ids, by index. */
  readonly ids: readonly string[];
  /** Indexes of the streams running now. */
  running(): number[];
}

/** One run's convergence: created per run from the configured strategy. */
export interface Convergence {
  /** Aligned checkpoint interval the run lays out (0: streams never stop at `ctx.checkpoint()`). */
  readonly checkpointIntervalMs: number;
  /** The run's streams were dispatched. */
  onStart(run: RunView): void;
  /** A stream settled. */
  onResult(result: StreamResult): void;
  /** Every stream settled: stop whatever the strategy runs and deliver what is left (a promise when that takes time). */
  onEnd(results: readonly StreamResult[]): Promise<void> | void;
}

/** What a strategy is configured with. */
export interface ConvergenceSettings<E> {
  /** The checkpoint interval configured on the coordinator. */
  readonly intervalMs: number;
  /** Hands an event to the caller's callback; errors it throws or rejects with fail the run. */
  readonly emit: (event: E) => void;
  /** The coordinator's tracer, when tracing is on. */
  readonly tracer: Tracer | undefined;
}

/** A convergence type: makes one {@link Convergence} per run. `E` is what its callback receives. */
export interface ConvergenceStrategy<E> {
  create(settings: ConvergenceSettings<E>): Convergence;
}

/** The parts of a {@link Convergence} most strategies leave empty. */
export const quiet = {
  checkpointIntervalMs: 0,
  onStart(): void {},
  onResult(): void {},
  onEnd(): void {},
} satisfies Convergence;

/** Events of the built-in strategies, for the callbacks' types. */
export type { CheckpointRecord, StreamResult };
