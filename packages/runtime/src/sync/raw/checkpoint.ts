/**
 * Raw aligned checkpoints: the word protocol shared by the coordinator (which raises and
 * releases epochs) and the streams (which arrive and park until released). Pure functions over
 * an Int32Array whose first three words are the header below, plus one SEEN word per party
 * anywhere in the same array.
 *
 * | word      | writer      | meaning                                                   |
 * | --------- | ----------- | --------------------------------------------------------- |
 * | EPOCH     | coordinator | latest epoch raised (0: none yet)                         |
 * | RELEASED  | coordinator | latest epoch released; arrivals park on it                 |
 * | ARRIVALS  | parties     | bumped on every arrival, so the coordinator can park on it |
 * | SEEN (each party) | that party | latest epoch it arrived at                        |
 *
 * Epochs only grow, so `RELEASED >= epoch` is the release condition of every arrival at
 * `epoch` and older, and a release can never be missed by a late waiter.
 */
import * as atomics from '../../shared/atomics.js';
import { Park } from '../../shared/wait.js';

export const EPOCH = 0;
export const RELEASED = 1;
export const ARRIVALS = 2;
/** Words of the header. */
export const HEADER_WORDS = 3;

/** The epoch a party must join at its safe point, or 0 when none is pending for it. */
export function pendingEpoch(words: Int32Array, seenIndex: number): number {
  const epoch = atomics.load(words, EPOCH);
  return epoch === 0 || epoch <= atomics.load(words, seenIndex) ? 0 : epoch;
}

/** Records a party's arrival at `epoch` and wakes the coordinator. */
export function arrive(words: Int32Array, seenIndex: number, epoch: number): void {
  atomics.store(words, seenIndex, epoch);
  // The arrivals word changes on every arrival, so a coordinator parked on it cannot sleep through one.
  atomics.add(words, ARRIVALS, 1);
  atomics.notify(words, ARRIVALS);
}

/** An arrival's release test: true once `epoch` is released, else where to park. */
export function released(words: Int32Array, epoch: number): true | Park {
  const at = atomics.load(words, RELEASED);
  return at >= epoch || new Park(words, RELEASED, at);
}

/** The latest epoch party `seenIndex` arrived at. */
export function seen(words: Int32Array, seenIndex: number): number {
  return atomics.load(words, seenIndex);
}

/** Raises `epoch` (coordinator): parties join it at their next safe point. */
export function raise(words: Int32Array, epoch: number): void {
  atomics.store(words, EPOCH, epoch);
}

/** Releases every arrival at `epoch` or older (coordinator). */
export function release(words: Int32Array, epoch: number): void {
  atomics.store(words, RELEASED, epoch);
  atomics.notify(words, RELEASED);
}

/** Releases every epoch raised so far, so no party waits on one (a run ending or cancelled). */
export function releaseAll(words: Int32Array): void {
  release(words, atomics.load(words, EPOCH));
}

/** The arrivals count the coordinator parks on (it changes with every arrival). */
export function arrivals(words: Int32Array): number {
  return atomics.load(words, ARRIVALS);
}
