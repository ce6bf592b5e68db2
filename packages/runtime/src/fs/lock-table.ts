/**
 * The thread-level half of file locking: a table of reader/writer locks in shared memory,
 * keyed by a file's full real path (stored and compared byte for byte, so two files never
 * share a lock through a hash collision). Every holder and every waiter is recorded by thread
 * token, so everything a dead thread held or waited for can be undone ({@link LockTable.recover}).
 *
 * Layout (Int32 words): `slots` slots of {@link SLOT_WORDS} words, then `slots` path areas of
 * `maxPathBytes` bytes (rounded up to words). The table lock (a `Mutex` of its own) guards
 * claiming and freeing slots and adding a thread to one.
 *
 * | slot word  | written by                                | meaning                                           |
 * | ---------- | ----------------------------------------- | ------------------------------------------------- |
 * | PATH_LEN   | table-lock holder                         | byte length of the path; 0: the slot is free      |
 * | WRITER     | the writer (CAS); recovery                | token of the writing thread, or 0                 |
 * | SEQ        | anyone releasing or stepping back         | bumped on every release; waiters park on it       |
 * | OWNER_DIED | recovery sets; the next writer clears     | 1: a writer died holding the file                 |
 * | READER[i]  | the reader (CAS); recovery                | token of a reading thread, or 0 ({@link MAX_READERS}) |
 * | THREAD[j]  | table-lock holder claims; owner; recovery | a thread in the slot: its token, then its counts  |
 *
 * A THREAD entry's counts word packs the thread's *presence* (holds + waits on this file, low 16
 * bits) and its *waiting writers* (high 16 bits) in one word, so each change is one atomic add
 * and a thread killed at any instant leaves a consistent entry. Waiting writers hold new readers
 * back; a slot is free again once no thread is present (and no dead writer is unreported).
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

const PATH_LEN = 0;
const WRITER = 1;
const SEQ = 2;
const OWNER_DIED = 3;
const READER = 4;
/** Threads that can hold one file's read lock at once. */
export const MAX_READERS = 32;
const THREAD = READER + MAX_READERS;
/** Threads that can hold or wait for one file at once. */
export const MAX_THREADS_PER_FILE = 64;
const SLOT_WORDS = THREAD + 2 * MAX_THREADS_PER_FILE;
/** One hold or wait, in a THREAD entry's counts word. */
const PRESENT = 1;
/** One waiting writer, in a THREAD entry's counts word. */
const WRITE_WAIT = 1 << 16;
const PRESENCE_MASK = 0xffff;

/** Lock modes. */
export type LockMode = 'read' | 'write';

/** Shape of a table: how many files it can lock at once and how long their paths may be. */
export interface LockTableShape {
  readonly slots: number;
  readonly maxPathBytes: number;
}

/** Bytes a table of `shape` occupies. */
export function tableBytes(shape: LockTableShape): number {
  return shape.slots * SLOT_WORDS * 4 + shape.slots * Math.ceil(shape.maxPathBytes / 4) * 4;
}

const encoder = new TextEncoder();

/** Releases a lock that was taken to call a table method (a `MutexGuard`). */
export interface TableGuard {
  unlock(): void;
}

/** A view of a lock table in shared memory (any thread). */
export class LockTable {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly #shape: LockTableShape;
  readonly #pathsAt: number;
  readonly #stride: number;

  constructor(region: Region, shape: LockTableShape) {
    this.#shape = shape;
    const slotWords = shape.slots * SLOT_WORDS;
    this.#words = int32s(region, slotWords);
    this.#stride = Math.ceil(shape.maxPathBytes / 4) * 4;
    this.#pathsAt = slotWords * 4;
    this.#bytes = new Uint8Array(region.buffer, region.byteOffset, this.#pathsAt + shape.slots * this.#stride);
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
   * Finds or claims the slot for `path` and records `token` there as waiting for `mode`. The
   * caller holds the table lock through `guard`; this releases it. Every `enter` is matched by
   * one {@link leave} (or, if the thread dies, by {@link recover}).
   */
  enter(path: Uint8Array, mode: LockMode, token: number, guard: TableGuard): number {
    try {
      const s = this.#slotFor(path);
      const entry = this.#entryOf(s, token) ?? this.#claimEntry(s, token);
      if ((atomics.load(this.#words, entry + 1) & PRESENCE_MASK) === PRESENCE_MASK) {
        throw new CapacityError(`this thread already holds or waits for ${PRESENCE_MASK} locks on one file; release some first`);
      }
      atomics.add(this.#words, entry + 1, mode === 'write' ? PRESENT + WRITE_WAIT : PRESENT);
      return s;
    } finally {
      guard.unlock();
    }
  }

  /** `token`'s writer on slot `s` stops waiting (it got the lock or gave up): readers may go on. */
  writerDone(s: number, token: number): void {
    const entry = this.#entryOf(s, token);
    if (entry === undefined) return;
    atomics.sub(this.#words, entry + 1, WRITE_WAIT);
    this.#bump(this.#base(s));
  }

  /**
   * Counts `token` out of slot `s` once (after release or giving up); frees the slot when
   * nobody is left in it. The caller holds the table lock through `guard`; this releases it.
   */
  leave(s: number, token: number, guard: TableGuard): void {
    try {
      const entry = this.#entryOf(s, token);
      if (entry === undefined) return;
      if (atomics.sub(this.#words, entry + 1, PRESENT) === PRESENT) atomics.store(this.#words, entry, 0);
      const base = this.#base(s);
      // A slot whose dead writer nobody has heard of yet stays keyed to its path, so the next
      // locker of that file learns it; it is taken back only when the table is otherwise full.
      if (atomics.load(this.#words, base + OWNER_DIED) === 0 && this.#isEmpty(s)) atomics.store(this.#words, base + PATH_LEN, 0);
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
        // A reader got in first: step back (waking readers that saw us) and wait for the
        // readers to leave. Park on SEQ as it is after our own bump, or we would wake
        // ourselves and spin; readers still present after that read will bump it when they go.
        atomics.store(w, base + WRITER, 0);
        this.#bump(base);
        const after = atomics.load(w, base + SEQ);
        if (this.#readers(base) !== 0) return new Park(w, base + SEQ, after);
      }
    } else if (atomics.load(w, base + WRITER) === 0 && !this.#writersWaiting(s)) {
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

  /**
   * Whether a writer died holding slot `s`'s file since a writer last held it. A new `write`
   * holder takes the news (the flag clears: it is the one to repair the file); `read` holders
   * only see it.
   */
  ownerDied(s: number, mode: LockMode): boolean {
    const at = this.#base(s) + OWNER_DIED;
    if (mode === 'read') return atomics.load(this.#words, at) === 1;
    return atomics.compareExchange(this.#words, at, 1, 0) === 1;
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

  /**
   * Undoes everything a dead thread's `token` held or waited for: its holds are cleared (a
   * dead writer marks the file owner-died), its waits and presence are dropped. Lock-free: the
   * dead thread touches nothing any more, and live threads only touch their own entries.
   * Returns how many holds and waits it undid.
   */
  recover(token: number): number {
    const w = this.#words;
    let undone = 0;
    for (let s = 0; s < this.#shape.slots; s++) {
      const base = this.#base(s);
      let held = 0;
      if (atomics.load(w, base + WRITER) === token) {
        // Flag first: a writer that gets in the moment WRITER clears must see it.
        atomics.store(w, base + OWNER_DIED, 1);
        if (atomics.compareExchange(w, base + WRITER, token, 0) === token) held++;
      }
      for (let r = 0; r < MAX_READERS; r++) {
        if (atomics.compareExchange(w, base + READER + r, token, 0) === token) held++;
      }
      // Presence counts holds and waits alike; a hold is also a cleared word above.
      let here = held;
      const entry = this.#entryOf(s, token);
      if (entry !== undefined) {
        here = Math.max(held, atomics.load(w, entry + 1) & PRESENCE_MASK);
        atomics.store(w, entry + 1, 0);
        atomics.store(w, entry, 0);
      }
      if (here > 0) {
        this.#bump(base);
        undone += here;
      }
    }
    return undone;
  }

  /** The slot keyed to `path`, or a free one claimed for it. Under the table lock. */
  #slotFor(path: Uint8Array): number {
    const w = this.#words;
    let free = -1;
    for (let s = 0; s < this.#shape.slots; s++) {
      if (atomics.load(w, this.#base(s) + PATH_LEN) === 0) {
        if (free < 0) free = s;
      } else if (this.#samePath(s, path)) return s;
    }
    // Full: take back a slot nobody is in (its dead writer goes unreported, the lesser loss).
    for (let s = 0; s < this.#shape.slots && free < 0; s++) if (this.#isEmpty(s)) free = s;
    if (free < 0) {
      throw new CapacityError(`all ${this.#shape.slots} file-lock slots are in use; raise options.maxFiles`);
    }
    const base = this.#base(free);
    atomics.store(w, base + PATH_LEN, 0);
    atomics.store(w, base + OWNER_DIED, 0);
    this.#bytes.set(path, this.#pathAt(free));
    atomics.store(w, base + PATH_LEN, path.byteLength);
    return free;
  }

  /** Word index of `token`'s THREAD entry in slot `s`, if it has one. */
  #entryOf(s: number, token: number): number | undefined {
    const first = this.#base(s) + THREAD;
    for (let j = 0; j < MAX_THREADS_PER_FILE; j++) {
      if (atomics.load(this.#words, first + 2 * j) === token) return first + 2 * j;
    }
    return undefined;
  }

  /** A free THREAD entry of slot `s`, now `token`'s. Under the table lock (no two claimers). */
  #claimEntry(s: number, token: number): number {
    const first = this.#base(s) + THREAD;
    for (let j = 0; j < MAX_THREADS_PER_FILE; j++) {
      const at = first + 2 * j;
      if (atomics.compareExchange(this.#words, at, 0, token) === 0) return at;
    }
    throw new CapacityError(`${MAX_THREADS_PER_FILE} threads already hold or wait for this file; use fewer threads on one file`);
  }

  /** Whether no thread holds or waits for slot `s`. Stable under the table lock. */
  #isEmpty(s: number): boolean {
    const first = this.#base(s) + THREAD;
    for (let j = 0; j < MAX_THREADS_PER_FILE; j++) {
      if ((atomics.load(this.#words, first + 2 * j + 1) & PRESENCE_MASK) !== 0) return false;
    }
    return true;
  }

  #writersWaiting(s: number): boolean {
    const first = this.#base(s) + THREAD;
    for (let j = 0; j < MAX_THREADS_PER_FILE; j++) {
      if (atomics.load(this.#words, first + 2 * j + 1) >>> 16 !== 0) return true;
    }
    return false;
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
    return s * SLOT_WORDS;
  }

  #pathAt(s: number): number {
    return this.#pathsAt + s * this.#stride;
  }

  #samePath(s: number, path: Uint8Array): boolean {
    if (atomics.load(this.#words, this.#base(s) + PATH_LEN) !== path.byteLength) return false;
    const at = this.#pathAt(s);
    for (let i = 0; i < path.byteLength; i++) if (this.#bytes[at + i] !== path[i]) return false;
    return true;
  }
}
