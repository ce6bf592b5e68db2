/**
 * Recycling a thread after `maxStreamsPerThread` attempts. A retiring worker posts its last
 * outcome itself and exits while Piscina still counts that task in flight, so Piscina never
 * hands the dying thread another task; it fails the task with "worker exited", which the run
 * ignores because the outcome already arrived: Node emits every message a worker sent before
 * the Worker's 'exit' event.
 */
import { parentPort, type TransferListItem } from 'node:worker_threads';
import type { ServicesAddress } from './services.js';
import type { StreamOutcome } from './task.js';

const RETIRED = 'tributary:retired';

/** The last outcome of a retiring thread. */
export interface RetiredOutcome {
  readonly [RETIRED]: ServicesAddress;
  readonly outcome: StreamOutcome;
}

/** Whether a pool 'message' is a retiring thread's last outcome. */
export function isRetiredOutcome(message: unknown): message is RetiredOutcome {
  return typeof message === 'object' && message !== null && RETIRED in message;
}

/** The attempt a retired outcome belongs to. */
export function retiredAddress(message: RetiredOutcome): ServicesAddress {
  return message[RETIRED];
}

/** Sends `outcome` for the attempt at `address` and ends this worker thread (worker side). */
export function retire(address: ServicesAddress, outcome: StreamOutcome, transfer: readonly TransferListItem[] | undefined): never {
  const message: RetiredOutcome = { [RETIRED]: address, outcome };
  parentPort!.postMessage(message, transfer === undefined ? [] : [...transfer]);
  process.exit(0);
}

/**
 * Last outcomes of a run's retiring threads (main side), by attempt: each arrives before
 * Piscina fails its attempt's task, and is taken when that task ends.
 */
export class LastWords {
  readonly #outcomes = new Map<string, StreamOutcome>();

  /** A retiring thread posted `outcome` for attempt `attempt` of stream `index`. */
  heard(index: number, attempt: number, outcome: StreamOutcome): void {
    this.#outcomes.set(`${index}:${attempt}`, outcome);
  }

  /** The last outcome posted for attempt `attempt` of stream `index`, if any; once. */
  take(index: number, attempt: number): StreamOutcome | undefined {
    // Most runs never hear any: no key is built for them.
    if (this.#outcomes.size === 0) return undefined;
    const key = `${index}:${attempt}`;
    const outcome = this.#outcomes.get(key);
    this.#outcomes.delete(key);
    return outcome;
  }
}
