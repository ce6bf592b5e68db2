/**
 * `coordinator.stream(source, { maxInFlight })` over any number of specs: pulls them from an
 * iterable or async iterable as results are consumed, so at most `maxInFlight` streams are
 * queued, running, or settled but not yet yielded. Memory stays flat however long the source.
 *
 * Pulled specs are started in batches of `ceil(maxInFlight / 4)`, each batch a run of its own
 * (its own barrier and checkpoints; ids need only be unique within a batch), so a refill never
 * waits for a whole window to drain.
 */
import { InvalidArgumentError } from '../shared/errors.js';
import type { StreamResult, StreamSpec } from './types.js';

/** A batch in flight, as the bounded stream drives it. */
export interface BatchRun {
  /** Settles when every stream of the batch settled; rejects with a failed callback's error. */
  readonly done: Promise<StreamResult[]>;
  cancel(reason?: unknown): void;
}

/** Starts one batch whose results go to `sink` as they settle. */
export type StartBatch = (specs: StreamSpec[], sink: (result: StreamResult) => void) => BatchRun;

/** Checks a stream() source: an array, an iterable or an async iterable of specs. */
export function specSource(source: unknown): Iterable<StreamSpec> | AsyncIterable<StreamSpec> {
  if (source !== null && typeof source === 'object' && (Symbol.iterator in source || Symbol.asyncIterator in source)) {
    return source as Iterable<StreamSpec> | AsyncIterable<StreamSpec>;
  }
  throw new InvalidArgumentError('streams must be an array, an iterable or an async iterable of stream specs');
}

/** Yields the results of every spec `source` gives, keeping at most `maxInFlight` in flight, started `batchSize` at a time. */
export async function* boundedStream(
  source: Iterable<StreamSpec> | AsyncIterable<StreamSpec>,
  maxInFlight: number,
  startBatch: StartBatch,
  batchSize = Math.max(1, Math.ceil(maxInFlight / 4)),
): AsyncGenerator<StreamResult, void, undefined> {
  const iterator = Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
  const ready: StreamResult[] = [];
  const batches = new Set<BatchRun>();
  let inFlight = 0;
  let exhausted = false;
  let failure: unknown;
  let wake: (() => void) | undefined;
  const sink = (result: StreamResult): void => {
    ready.push(result);
    wake?.();
  };
  try {
    for (;;) {
      // Refill while a whole batch fits; results not yet yielded still count as in flight.
      while (!exhausted && failure === undefined && inFlight + batchSize <= maxInFlight) {
        const specs: StreamSpec[] = [];
        while (specs.length < batchSize) {
          const next = await iterator.next();
          if (next.done === true) {
            exhausted = true;
            break;
          }
          specs.push(next.value);
        }
        if (specs.length === 0) break;
        inFlight += specs.length;
        const batch = startBatch(specs, sink);
        batches.add(batch);
        batch.done.then(
          () => batches.delete(batch),
          (error: unknown) => {
            batches.delete(batch);
            failure ??= error;
            wake?.();
          },
        );
      }
      if (ready.length === 0 && failure === undefined) {
        if (exhausted && inFlight === 0) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      while (ready.length > 0) {
        inFlight--;
        yield ready.shift()!;
      }
      if (failure !== undefined) throw failure;
    }
  } finally {
    for (const batch of batches) batch.cancel(new Error('the consumer left the stream() loop'));
    await Promise.all([...batches].map((b) => b.done.catch(() => {})));
    if (!exhausted) await iterator.return?.();
  }
}
