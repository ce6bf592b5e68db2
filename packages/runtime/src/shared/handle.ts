/**
 * Handles: the structured-cloneable description of a primitive (`{ kind, buffer, byteOffset, ... }`)
 * that crosses into a worker, where `Primitive.from(handle)` rebuilds a view of the same memory.
 */
import { Arena, place, type Placement, type Region } from './arena.js';
import { InvalidArgumentError } from './errors.js';
import { optionsObject, show } from './validate.js';

/** A region tagged with the primitive it belongs to. */
export interface Handle<K extends string> extends Region {
  readonly kind: K;
}

/**
 * Checks that `handle` is a `kind` handle whose region fits: a `SharedArrayBuffer`, and a
 * `byteOffset` that is a non-negative integer, 8-aligned (as every region is) and leaves
 * `byteLength` bytes in the buffer. Returns it typed. A bad handle is an InvalidArgumentError
 * before any view is built on it (a typed array would throw a raw RangeError, and a NaN
 * offset would silently alias offset 0).
 */
export function checkHandle<H extends Handle<string>>(handle: unknown, kind: H['kind'], byteLength = 4): H {
  const h = handle as Partial<H> | null;
  const fix = `pass the handle of a ${kind} (its .handle), unchanged`;
  if (typeof h !== 'object' || h === null || h.kind !== kind || !(h.buffer instanceof SharedArrayBuffer)) {
    throw new InvalidArgumentError(`expected a ${kind} handle (from ${kind.toLowerCase()}.handle), got ${describe(handle)}`);
  }
  const at = h.byteOffset as unknown;
  if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at % REGION_ALIGN !== 0) {
    throw new InvalidArgumentError(`${kind} handle: byteOffset must be a non-negative multiple of ${REGION_ALIGN}, got ${show(at)}; ${fix}`);
  }
  if (at + byteLength > h.buffer.byteLength) {
    throw new InvalidArgumentError(
      `${kind} handle: its region needs ${byteLength} bytes at offset ${at}, but the buffer holds ${h.buffer.byteLength}; ${fix}`,
    );
  }
  return h as H;
}

/** Alignment of every region (BigInt64 views need 8). */
const REGION_ALIGN = 8;

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return show(value);
  const kind = (value as { kind?: unknown }).kind;
  if (kind === undefined) return 'an object without kind';
  return (value as { buffer?: unknown }).buffer instanceof SharedArrayBuffer ? `a ${show(kind)} handle` : `a ${show(kind)} handle without a SharedArrayBuffer`;
}

// The handle being adopted by the constructor running now. JavaScript runs one constructor at a
// time per thread, so this hand-off between `adopt` and `claimRegion` cannot interleave.
let adopting: Handle<string> | undefined;

/**
 * Runs `build` (a constructor call) so that its {@link claimRegion} returns `handle` instead of
 * allocating: how `Primitive.from(handle)` reuses the constructor.
 */
export function adopt<T>(handle: Handle<string>, build: () => T): T {
  // Without this, a missing handle would leave nothing to adopt and build a fresh primitive.
  if (typeof handle !== 'object' || handle === null) {
    throw new InvalidArgumentError(`expected a handle (a primitive's .handle, passed unchanged), got ${show(handle)}`);
  }
  adopting = handle;
  try {
    return build();
  } catch (error) {
    // A typed array past the buffer's end: the handle's region is not all there.
    if (error instanceof RangeError) {
      throw new InvalidArgumentError(`the ${show(handle.kind)} handle's buffer is too small for its region; pass the handle unchanged`, { cause: error });
    }
    throw error;
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
    // The first word is checked here; a constructor whose size depends on its options cannot
    // know the adopted region's full size, so a shorter buffer surfaces in `adopt`.
    return { handle: checkHandle<Handle<K>>(pending, kind, Math.min(byteLength, 8)), fresh: false };
  }
  const p = optionsObject('options', placement);
  if (p.arena !== undefined && !(p.arena instanceof Arena)) throw new InvalidArgumentError(`options.arena must be an Arena, got ${show(p.arena)}`);
  const r = place(byteLength, placement);
  return { handle: { kind, buffer: r.buffer, byteOffset: r.byteOffset }, fresh: true };
}
