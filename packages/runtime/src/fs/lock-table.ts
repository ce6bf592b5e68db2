/**
 * The thread-level half of file locking: a table of reader/writer locks in shared memory,
 * keyed by a file's full real path (stored and compared byte for byte, so two files never
 * share a lock through a hash collision). Every holder's token is recorded, so a dead thread's
 * read or write locks can be cleared ({@link LockTable.recover}).
 *
 * Layout (Int32 words): `TABLE_LOCK` (a robust Mutex word guarding slot claims), then `slots`
 * slots of {@link SLOT_WORDS} words, then `slots` path areas of `maxPathBytes` bytes.
 *
 * | slot word | meaning                                                           |
 * | --------- | ----------------------------------------------------------------- |
 * | REFS      | holders + waiters; the slot is free (reusable) at 0                |
 * | PATH_LEN  | byte length of the path in this slot's path area                   |
 * | WRITER    | token of the writing thread, or 0                                  |
 * | WAITING_W | writers waiting: new readers hold back while > 0                   |
 * | SEQ       | bumped on every release; waiters park on it                        |
 * | READER[i] | token of a reading thread, or 0 ({@link MAX_READERS} of them)       |
 *
 * Readers and writers announce themselves first (a reader fills a READER word, a writer the
 * WRITER word) and then check for the other side, undoing their announcement if it is there.
 * With sequentially consistent atomics at least one of two racing sides sees the other, so a
 * reader and a writer can never both proceed.
 */
import { int32s, type Region } from '../shared/arena.js';
import * as atomics from '../shared/atomics.js';
import { CapacityError, InvalidArgumentError } from '../shared/errors.js';
import { Park } from '../shared/wait.js';
import { Mutex } from '../sync/mutex.js';

const REFS = 0;
const PATH_LEN = 1;
const WRITER = 2;
const WAITING_W = 3;
const SEQ = 4;
const READER = 5;
/** Threads that can hold one file's read lock at once. */
export const MAX_READERS = 32;
const SLOT_WORDS = READER + MAX_READERS;
const TABLE_LOCK = 0;
const FIRST_SLOT = 2; // word 1 is padding

/** Lock modes. */
export type LockMode = 'read' | 'write';

/** Shape of a table: how many files it can lock at once and how long their paths may be. */
export interface LockTableShape {
  readonly slots: number;
  readonly maxPathBytes: number;
}

/** Bytes a table of `shape` occupies. */
export function tableBytes(shape: LockTableShape): number {
  return (FIRST_SLOT + shape.slots * SLOT_WORDS) * 4 + shape.slots * Math.ceil(shape.maxPathBytes / 4) * 4;
}

const encoder = new TextEncoder();

/** A view of a lock table in shared memory (any thread). */
export class LockTable {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #shape: LockTableShape;
  readonly #lock: Mutex;
  readonly #pathsAt: number;

  constructor(region: Region, shape: LockTableShape) {
    this.#shape = shape;
    const slotWords = FIRST_SLOT + shape.slots * SLOT_WORDS;
    this.#words = int32s(region, slotWords);
    const stride = Math.ceil(shape.maxPathBytes / 4) * 4;
    this.#pathsAt = slotWords * 4;
    this.#bytes = new Uint8Array(region.buffer, region.byteOffset, this.#pathsAt + shape.slots * stride);
    this.#lock = Mutex.from({ kind: 'Mutex', buffer: region.buffer, byteOffset: region.byteOffset + TABLE_LOCK * 4 });
  }

  /** The path as the table stores it, checked for length. */
  encode(path: string): Uint8Array {
    const bytes = encoder.encode(path);
    if (bytes.byteLength > this.#shape.maxPathBytes) {
      throw new InvalidArgumentError(`path is ${bytes.byteLength} bytes; this lock manager takes at most ${this.#shape.maxPathBytes} (options.maxPathBytes)`);
    }
    return bytes;
  }

  /**
   * Finds or claims the slot for `path` and counts the caller in (REFS + 1). The caller holds
   * the table lock through `guard`; this releases it.
   */
  enter(path: Uint8Array, guard: { unlock(): void }): number {
    try {
      let free = -1;
      for (let s = 0; s < this.#shape.slots; s++) {
        const base = this.#base(s);
        const refs = atomics.load(this.#words, base + REFS);
        if (refs === 0) {
          if (free < 0) free = s;
          continue;
        }
        if (this.#samePath(s, path)) {
          atomics.add(this.#words, base + REFS, 1);
          return s;
        }
      }
      if (free < 0) throw new CapacityError(`all ${this.#shape.slots} file-lock slots are in use; raise options.maxFiles`);
      const base = this.#base(free);
      this.#bytes.set(path, this.#pathAt(free));
      atomics.store(this.#words, base + PATH_LEN, path.byteLength);
      atomics.store(this.#words, base + REFS, 1);
      return free;
    } finally {
      guard.unlock();
    }
  }

  /** The table lock (for {@link enter} and {@link leave}). */
  get tableLock(): Mutex {
    return this.#lock;
  }

  /** Counts the caller out of slot `s` (after release or giving up). */
  leave(s: number, guard: { unlock(): void }): void {
    try {
      const base = this.#base(s);
      if (atomics.sub(this.#words, base + REFS, 1) === 1) atomics.store(this.#words, base + PATH_LEN, 0);
    } finally {
      guard.unlock();
    }
  }

  /** One try at `mode` on slot `s` for `token`: true, or where to park. */
  step(s: number, mode: LockMode, token: number): true | Park {
    const base = this.#base(s);
    const w = this.#words;
    const seq = atomics.load(w, base + SEQ);
    if (mode === 'write') {
      if (atomics.compareExchange(w, base + WRITER, 0, token) === 0) {
        if (this.#readers(base) === 0) return true;
        // A reader got in first: step back and wait for the readers to leave.
        atomics.store(w, base + WRITER, 0);
        this.#bump(base);
      }
    } else if (atomics.load(w, base + WRITER) === 0 && atomics.load(w, base + WAITING_W) === 0) {
      for (let r = 0; r < MAX_READERS; r++) {
        if (atomics.compareExchange(w, base + READER + r, 0, token) !== 0) continue;
        if (atomics.load(w, base + WRITER) === 0) return true;
        // A writer got in first: step back.
        atomics.store(w, base + READER + r, 0);
        this.#bump(base);
        break;
      }
    }
    return new Park(w, base + SEQ, seq);
  }

  /** A writer starts or stops waiting on slot `s` (new readers hold back meanwhile). */
  writerWaiting(s: number, delta: 1 | -1): void {
    atomics.add(this.#words, this.#base(s) + WAITING_W, delta);
    if (delta < 0) this.#bump(this.#base(s));
  }

  /** Releases `token`'s `mode` lock on slot `s`; returns whether it held one. */
  release(s: number, mode: LockMode, token: number): boolean {
    const base = this.#base(s);
    const w = this.#words;
    let released = false;
    if (mode === 'write') released = atomics.compareExchange(w, base + WRITER, token, 0) === token;
    else {
      for (let r = 0; r < MAX_READERS && !released; r++) released = atomics.compareExchange(w, base + READER + r, token, 0) === token;
    }
    if (released) this.#bump(base);
    return released;
  }

  /** Clears every lock a dead thread's `token` held; returns how many. Repairs REFS too. */
  recover(token: number): number {
    let cleared = 0;
    for (let s = 0; s < this.#shape.slots; s++) {
      const base = this.#base(s);
      let here = 0;
      if (atomics.compareExchange(this.#words, base + WRITER, token, 0) === token) here++;
      for (let r = 0; r < MAX_READERS; r++) {
        if (atomics.compareExchange(this.#words, base + READER + r, token, 0) === token) here++;
      }
      if (here > 0) {
        atomics.sub(this.#words, base + REFS, here);
        this.#bump(base);
        cleared += here;
      }
    }
    return cleared;
  }

  #readers(base: number): number {
    let n = 0;
    for (let r = 0; r < MAX_READERS; r++) if (atomics.load(this.#words, base + READER + r) !== 0) n++;
    return n;
  }

  #bump(base: number): void {
    atomics.add(this.#words, base + SEQ, 1);
    atomics.notify(this.#words, base + SEQ);
  }

  #base(s: number): number {
    return FIRST_SLOT + s * SLOT_WORDS;
  }

  #pathAt(s: number): number {
    return this.#pathsAt + s * Math.ceil(this.#shape.maxPathBytes / 4) * 4;
  }

  #samePath(s: number, path: Uint8Array): boolean {
    if (atomics.load(this.#words, this.#base(s) + PATH_LEN) !== path.byteLength) return false;
    const at = this.#pathAt(s);
    for (let i = 0; i < path.byteLength; i++) if (this.#bytes[at + i] !== path[i]) return false;
    return true;
  }
}
