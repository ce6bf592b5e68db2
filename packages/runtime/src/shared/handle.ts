/**
 * Handles: the structured-cloneable description of a primitive (`{ kind, buffer, byteOffset, ... }`)
 * that crosses into a worker, where `Primitive.from(handle)` rebuilds a view of the same memory.
 */
import { place, type Placement, type Region } from './arena.js';
import { InvalidArgumentError } from './errors.js';

/** A region tagged with the primitive it belongs to. */
export interface Handle<K extends string> extends Region {
  readonly kind: K;
}

/** Checks that `handle` is a `kind` handle; returns it typed. */
export function checkHandle<H extends Handle<string>>(handle: unknown, kind: H['kind']): H {
  const h = handle as Partial<H> | null;
  if (
    typeof h !== 'object' || h === null || h.kind !== kind ||
    !(h.buffer instanceof SharedArrayBuffer) || typeof h.byteOffset !== 'number'
  ) {
    throw new InvalidArgumentError(`expected a ${kind} handle (from ${kind.toLowerCase()}.handle), got ${describe(handle)}`);
  }
  return h as H;
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  const kind = (value as { kind?: unknown }).kind;
  return kind === undefined ? 'an object without kind' : `a ${String(kind)} handle`;
}

// The handle being adopted by the constructor running now. JavaScript runs one constructor at a
// time per thread, so this hand-off between `adopt` and `claimRegion` cannot interleave.
let adopting: Handle<string> | undefined;

/**
 * Runs `build` (a constructor call) so that its {@link claimRegion} returns `handle` instead of
 * allocating: how `Primitive.from(handle)` reuses the constructor.
 */
export function adopt<T>(handle: Handle<string>, build: () => T): T {
  adopting = handle;
  try {
    return build();
  } finally {
    adopting = undefined;
  }
}

/** A primitive's region: the adopted handle, or fresh zeroed memory it must initialise. */
export interface Claim<K extends string> {
  readonly handle: Handle<K>;
  /** True when the memory is new and the constructor must write its initial state. */
  readonly fresh: boolean;
}

/** The region for a primitive being constructed; see {@link adopt}. */
export function claimRegion<K extends string>(kind: K, byteLength: number, placement?: Placement): Claim<K> {
  const pending = adopting;
  if (pending !== undefined) {
    adopting = undefined;
    return { handle: checkHandle<Handle<K>>(pending, kind), fresh: false };
  }
  const r = place(byteLength, placement);
  return { handle: { kind, buffer: r.buffer, byteOffset: r.byteOffset }, fresh: true };
}
