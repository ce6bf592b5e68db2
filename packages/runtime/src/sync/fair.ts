/**
 * FIFO-fair acquisition over a raw ticket queue (`raw/fifo.ts`), shared by the Semaphore and
 * the ResourcePool. `tryTake` is the primitive's own all-or-nothing take from its counters.
 */
import { HANDOFF_SPINS, Park, untilAsync, untilSync, type Attempt, type WaitContext } from '../shared/wait.js';
import * as fifo from './raw/fifo.js';

function headAttempt(view: Int32Array, base: number, ticket: number, tryTake: () => boolean): Attempt<true> {
  return () => {
    const seq = fifo.sequence(view, base);
    if (fifo.isHead(view, base, ticket) && tryTake()) {
      fifo.advance(view, base, ticket);
      return true;
    }
    return new Park(view, base + fifo.SEQ, seq);
  };
}

function giveUp(view: Int32Array, base: number, ticket: number): () => undefined {
  return () => {
    fifo.abandon(view, base, ticket);
    return undefined;
  };
}

/** Takes without queueing when nobody waits; returns whether it did. */
export function tryFair(view: Int32Array, base: number, tryTake: () => boolean): boolean {
  return fifo.isEmpty(view, base) && tryTake();
}

/** Blocks in FIFO order until `tryTake` succeeds at the head of the queue. */
export function acquireFairSync(view: Int32Array, base: number, ctx: WaitContext, tryTake: () => boolean): void {
  if (tryFair(view, base, tryTake)) return;
  const ticket = untilSync(ctx, () => fifo.enqueueStep(view, base));
  untilSync(ctx, headAttempt(view, base, ticket, tryTake), giveUp(view, base, ticket), HANDOFF_SPINS);
}

/** The asynchronous twin of {@link acquireFairSync}. */
export async function acquireFairAsync(
  view: Int32Array,
  base: number,
  ctx: WaitContext,
  tryTake: () => boolean,
): Promise<void> {
  if (tryFair(view, base, tryTake)) return;
  const ticket = await untilAsync(ctx, () => fifo.enqueueStep(view, base));
  await untilAsync(ctx, headAttempt(view, base, ticket, tryTake), giveUp(view, base, ticket));
}
