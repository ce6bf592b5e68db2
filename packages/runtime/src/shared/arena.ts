/**
 * The arena: one `SharedArrayBuffer` carved into regions, one per primitive. Allocation is a
 * bump pointer at creation time; regions are never freed individually (the whole arena goes
 * when its last reference does). A region travels to a worker as its handle
 * (`{ buffer, byteOffset }`), which is structured-cloneable: the worker sees the same memory.
 */
import { CapacityError } from './errors.js';
import { integerIn, positiveInteger } from './validate.js';

/** Where a primitive's words live. Structured-cloneable. */
export interface Region {
  /** The shared memory that holds the region. */
  readonly buffer: SharedArrayBuffer;
  /** Byte offset of the region's first word; 8-aligned. */
  readonly byteOffset: number;
}

/** A bump allocator over one `SharedArrayBuffer`. */
export class Arena {
  /** The shared memory every region of this arena lives in. */
  readonly buffer: SharedArrayBuffer;
  #next = 0;

  /** @param byteLength total bytes; regions are carved from it until it is full. */
  constructor(byteLength: number) {
    positiveInteger('byteLength', byteLength);
    this.buffer = new SharedArrayBuffer(byteLength);
  }

  /** Bytes still free. */
  get remaining(): number {
    return this.buffer.byteLength - this.#next;
  }

  /**
   * Reserves `byteLength` zeroed bytes, 8-aligned so BigInt64 views fit anywhere.
   * @throws CapacityError when the arena is full.
   */
  allocate(byteLength: number): Region {
    integerIn('byteLength', byteLength, 0, Number.MAX_SAFE_INTEGER);
    const byteOffset = this.#next;
    const end = byteOffset + Math.ceil(byteLength / 8) * 8;
    if (end > this.buffer.byteLength) {
      throw new CapacityError(
        `arena is full: ${byteLength} bytes asked, ${this.remaining} left of ${this.buffer.byteLength}; ` +
          `create the Arena you pass as options.arena with a larger size, or leave options.arena out (each primitive then gets memory of its own)`,
      );
    }
    this.#next = end;
    return { buffer: this.buffer, byteOffset };
  }
}

/** Where a primitive's constructor takes its memory from. */
export interface Placement {
  /** Allocate inside this arena instead of a private buffer. Default: a private buffer. */
  readonly arena?: Arena;
}

/** A region from `placement.arena`, or a fresh private buffer of `byteLength` bytes. */
export function place(byteLength: number, placement?: Placement): Region {
  if (placement?.arena) return placement.arena.allocate(byteLength);
  return { buffer: new SharedArrayBuffer(Math.ceil(byteLength / 8) * 8), byteOffset: 0 };
}

/** Int32 view of `words` words at `region`. */
export function int32s(region: Region, words: number): Int32Array {
  return new Int32Array(region.buffer, region.byteOffset, words);
}

/** BigInt64 view of `words` words at `region`. */
export function int64s(region: Region, words: number): BigInt64Array {
  return new BigInt64Array(region.buffer, region.byteOffset, words);
}
