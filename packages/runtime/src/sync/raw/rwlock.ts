/**
 * Raw robust writer-preferring reader/writer lock: a few counters and a table of the threads
 * that hold read locks or wait to write, all changed inside a robust section
 * (`raw/section.ts`), so a thread that dies anywhere leaves the lock whole and its share can
 * be taken back.
 *
 * | word (from base)   | meaning                                                  | written by            |
 * | ------------------ | -------------------------------------------------------- | --------------------- |
 * | THREADS            | H, rows of the thread table                              | the creator, once     |
 * | SEQ                | bumped after each release that may let someone in        | anyone, after leaving |
 * | FLAGS              | OWNER_DIED: a writer died holding it; holders told until a writer clears it | section |
 * | WRITER             | token of the thread holding the write lock; 0: none      | section               |
 * | READERS            | read locks held, all threads together                    | section               |
 * | WRITERS_WAITING    | announced writers; while > 0 new readers hold back       | section               |
 * | SECTION..          | the robust section (lock word and undo log)              | see `raw/section.ts`  |
 * | ROWS + 3r          | row r: thread token (0: free row)                        | section               |
 * | ROWS + 3r + 1      | read locks that thread holds                             | section               |
 * | ROWS + 3r + 2      | 1 while that thread waits to write                       | section               |
 *
 * Invariants at every commit: READERS = the sum of the rows' reads; WRITERS_WAITING = the rows
 * waiting to write; WRITER !== 0 only when READERS = 0.
 *
 * Waiters read SEQ, look inside the section, and park on the SEQ value they read: a release
 * between the look and the park changes SEQ, so no wake-up is lost.
 *
 * Fairness: a waiting writer blocks new readers, so a stream of readers cannot starve it.
 */
import * as atomics from '../../shared/atomics.js';
import * as section from './section.js';

const THREADS = 0;
/** Word index, from base, of the change-sequence word waiters park on (`raw/changes.ts`). */
export const SEQ = 1;
const FLAGS = 2;
const WRITER = 3;
const READERS = 4;
const WRITERS_WAITING = 5;
/** Word index of the lock's section. */
export const SECTION = 6;
const ROW_WIDTH = 3;
const OWNER_DIED = 1;
/** The longest commit: a writer that takes the lock and withdraws its row. */
const LOG_ENTRIES = 8;
const ROWS = SECTION + section.sectionWords(LOG_ENTRIES);

/** Int32 words of a lock with `threads` table rows. */
export function wordsFor(threads: number): number {
  return ROWS + threads * ROW_WIDTH;
}

/** Rows of an existing lock's table. */
export function threadsAt(view: Int32Array, base: number): number {
  return atomics.load(view, base + THREADS);
}

/** Writes a fresh lock (zeroed memory). */
export function init(view: Int32Array, base: number, threads: number): void {
  atomics.store(view, base + THREADS, threads);
  section.initSection(view, base + SECTION, LOG_ENTRIES);
}

/** Results inside the section: taken (TAKEN, or TAKEN_OWNER_DIED), or why not. */
export const TAKEN = 1;
export const TAKEN_OWNER_DIED = 2;
export const NOT_NOW = 0;
export const NO_ROW = -1;
export const NOT_OWNER = -2;

function rowAt(base: number, r: number): number {
  return base + ROWS + r * ROW_WIDTH;
}

/** The row of `token` (trying `hint` first), or -1. */
export function findRow(view: Int32Array, base: number, token: number, hint: number): number {
  const rows = atomics.load(view, base + THREADS);
  if (hint >= 0 && hint < rows && atomics.load(view, rowAt(base, hint)) === token) return hint;
  for (let r = 0; r < rows; r++) if (atomics.load(view, rowAt(base, r)) === token) return r;
  return -1;
}

/** A row of `token` whose word at `field` (READS 1, WAITING 2) is non-zero, `hint` first; or -1. */
function rowWith(view: Int32Array, base: number, token: number, hint: number, field: number): number {
  const rows = atomics.load(view, base + THREADS);
  const fits = (r: number): boolean => atomics.load(view, rowAt(base, r)) === token && atomics.load(view, rowAt(base, r) + field) !== 0;
  if (hint >= 0 && hint < rows && fits(hint)) return hint;
  for (let r = 0; r < rows; r++) if (fits(r)) return r;
  return -1;
}

/** The row of `token`, or a free one claimed for it (the hint first: see `raw/pool.ts`'s rowFor). */
function rowFor(view: Int32Array, base: number, token: number, hint: number): number {
  const rows = atomics.load(view, base + THREADS);
  if (hint >= 0 && hint < rows) {
    const owner = atomics.load(view, rowAt(base, hint));
    if (owner === token) return hint;
    if (owner === 0) {
      section.write(view, base + SECTION, rowAt(base, hint), token);
      return hint;
    }
  }
  const r = findRow(view, base, token, -1);
  if (r >= 0) return r;
  const free = findRow(view, base, 0, -1);
  if (free >= 0) section.write(view, base + SECTION, rowAt(base, free), token);
  return free;
}

/** Frees row `r` once it holds nothing and waits for nothing. */
function freeIfIdle(view: Int32Array, base: number, r: number): void {
  const at = rowAt(base, r);
  if (atomics.load(view, at + 1) === 0 && atomics.load(view, at + 2) === 0) section.write(view, base + SECTION, at, 0);
}

function add(view: Int32Array, base: number, index: number, delta: number): void {
  section.write(view, base + SECTION, index, atomics.load(view, index) + delta);
}

/**
 * Commits a take, reporting OWNER_DIED. Only a writer clears it: readers cannot repair what a
 * dead writer left, so every reader is told until a writer has taken the lock (and repaired).
 */
function taken(view: Int32Array, base: number, clears: boolean): number {
  const died = atomics.load(view, base + FLAGS) !== 0;
  if (died && clears) section.write(view, base + SECTION, base + FLAGS, 0);
  section.commit(view, base + SECTION);
  return died ? TAKEN_OWNER_DIED : TAKEN;
}

/** Inside the section: a read lock for `token` if no writer holds or waits for it. */
export function readInside(view: Int32Array, base: number, token: number, hint: number): number {
  if (atomics.load(view, base + WRITER) !== 0 || atomics.load(view, base + WRITERS_WAITING) !== 0) return NOT_NOW;
  const r = rowFor(view, base, token, hint);
  if (r < 0) return NO_ROW;
  add(view, base, rowAt(base, r) + 1, 1);
  add(view, base, base + READERS, 1);
  return taken(view, base, false);
}

/** Inside the section: releases one of `token`'s read locks. Returns whether writers wait for the last reader. */
export function readUnlockInside(view: Int32Array, base: number, token: number, hint: number): number {
  const r = rowWith(view, base, token, hint, 1);
  if (r < 0) return NOT_OWNER;
  add(view, base, rowAt(base, r) + 1, -1);
  freeIfIdle(view, base, r);
  add(view, base, base + READERS, -1);
  section.commit(view, base + SECTION);
  return atomics.load(view, base + READERS) === 0 && atomics.load(view, base + WRITERS_WAITING) !== 0 ? TAKEN : NOT_NOW;
}

/** Inside the section: announces `token` as a waiting writer (new readers hold back from now on). */
export function announceInside(view: Int32Array, base: number, token: number, hint: number): number {
  const r = rowFor(view, base, token, hint);
  if (r < 0) return NO_ROW;
  section.write(view, base + SECTION, rowAt(base, r) + 2, 1);
  add(view, base, base + WRITERS_WAITING, 1);
  section.commit(view, base + SECTION);
  return TAKEN;
}

/** Inside the section: `token` stops waiting to write (it got the lock or gave up). */
export function withdrawInside(view: Int32Array, base: number, token: number, hint: number): void {
  const r = rowWith(view, base, token, hint, 2);
  if (r < 0) return;
  section.write(view, base + SECTION, rowAt(base, r) + 2, 0);
  freeIfIdle(view, base, r);
  add(view, base, base + WRITERS_WAITING, -1);
}

/**
 * Inside the section: the write lock for `token` if nobody holds the lock; an `announced`
 * writer's announcement is withdrawn.
 */
export function writeInside(view: Int32Array, base: number, token: number, hint: number, announced: boolean): number {
  if (atomics.load(view, base + WRITER) !== 0 || atomics.load(view, base + READERS) !== 0) return NOT_NOW;
  if (announced) withdrawInside(view, base, token, hint);
  section.write(view, base + SECTION, base + WRITER, token);
  return taken(view, base, true);
}

/** Inside the section: releases the write lock held by `token`. */
export function writeUnlockInside(view: Int32Array, base: number, token: number): number {
  if (atomics.load(view, base + WRITER) !== token) return NOT_OWNER;
  section.write(view, base + SECTION, base + WRITER, 0);
  section.commit(view, base + SECTION);
  return TAKEN;
}

/** Whether `token` holds the write lock (a snapshot). */
export function isWriter(view: Int32Array, base: number, token: number): boolean {
  return atomics.load(view, base + WRITER) === token;
}

/**
 * Inside the section: drops what the dead thread `dead` had. Its write lock is freed and the
 * next holder told OWNER_DIED; its read locks are released; its writer announcement withdrawn.
 */
export function recoverInside(view: Int32Array, base: number, dead: number): number {
  let dropped = 0;
  if (atomics.load(view, base + WRITER) === dead) {
    section.write(view, base + SECTION, base + WRITER, 0);
    section.write(view, base + SECTION, base + FLAGS, OWNER_DIED);
    section.commit(view, base + SECTION);
    dropped++;
  }
  const rows = atomics.load(view, base + THREADS);
  for (let r = 0; r < rows; r++) {
    const at = rowAt(base, r);
    if (atomics.load(view, at) !== dead) continue;
    add(view, base, base + READERS, -atomics.load(view, at + 1));
    if (atomics.load(view, at + 2) !== 0) add(view, base, base + WRITERS_WAITING, -1);
    section.write(view, base + SECTION, at + 1, 0);
    section.write(view, base + SECTION, at + 2, 0);
    section.write(view, base + SECTION, at, 0);
    section.commit(view, base + SECTION);
    dropped++;
  }
  return dropped;
}
