/**
 * Moving data between the caller and a stream's worker instead of copying it: the transfer
 * lists of `StreamSpec.transfer` and `ctx.transfer(value, list)`, checked at the door, and
 * Piscina's movable values (`Piscina.move`) unwrapped into them.
 */
import { Piscina } from 'piscina';
import { types } from 'node:util';
import { MessagePort, type TransferListItem } from 'node:worker_threads';
import { InvalidArgumentError } from '../shared/errors.js';

/** Checks a transfer list and returns the transferable objects themselves (a view gives its buffer). */
export function transferList(name: string, list: unknown): TransferListItem[] {
  if (!Array.isArray(list)) throw new InvalidArgumentError(`${name} must be an array of ArrayBuffers, typed arrays or MessagePorts`);
  return list.map((item: unknown, i) => transferable(`${name}[${i}]`, item));
}

function transferable(name: string, item: unknown): TransferListItem {
  if (types.isSharedArrayBuffer(item)) {
    throw new InvalidArgumentError(`${name} is a SharedArrayBuffer: it is shared with the worker as it is; leave it out of the transfer list`);
  }
  if (types.isArrayBuffer(item) || item instanceof MessagePort) return item as TransferListItem;
  if (types.isArrayBufferView(item)) {
    if (types.isSharedArrayBuffer(item.buffer)) {
      throw new InvalidArgumentError(`${name} is a view of a SharedArrayBuffer: it is shared as it is; leave it out of the transfer list`);
    }
    return item.buffer as ArrayBuffer;
  }
  throw new InvalidArgumentError(`${name} must be an ArrayBuffer, a typed array or a MessagePort, got ${describe(item)}`);
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value;
}

/** A spec's input and what to move with it, a `Piscina.move` input unwrapped. */
export function movedInput(name: string, input: unknown, transfer: unknown): { input: unknown; transfer: TransferListItem[] } {
  const list = transfer === undefined ? [] : transferList(`${name}.transfer`, transfer);
  if (isMovable(input)) {
    const moved = input as Record<symbol, unknown>;
    const extra = moved[Piscina.transferableSymbol];
    return { input: moved[Piscina.valueSymbol], transfer: [...list, ...(Array.isArray(extra) ? extra : [extra as TransferListItem])] };
  }
  return { input, transfer: list };
}

function isMovable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Piscina.transferableSymbol in value && Piscina.valueSymbol in value;
}

/** A stream outcome moved back with its result's transfer list (Piscina's movable protocol). */
export function movedOutcome<T extends object>(outcome: T, list: readonly TransferListItem[]): T {
  return Piscina.move({
    get [Piscina.transferableSymbol]() {
      return list;
    },
    get [Piscina.valueSymbol]() {
      return outcome;
    },
  } as never) as T;
}
