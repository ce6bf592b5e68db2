/**
 * The process-level half of file locking: an exclusive lock file next to the target
 * (`<target>.tributary-lock`), created atomically with its owner record by `link()`ing a
 * finished temporary file into place (so nobody ever reads a half-written record).
 *
 * **Staleness.** A lock is stale when its owner is provably gone: on the same host, its pid is
 * dead or now belongs to a process started at another time (Linux `/proc/<pid>/stat`); on
 * another host (a shared file system), its mtime, refreshed every `staleMs / 3` by the holder's
 * main thread, is older than `staleMs`. A SIGKILLed holder on this host is detected at once.
 *
 * **Single-winner reclaim.** To take over a stale lock whose record has token T, a process must
 * first create `<lock>.<T>.reclaim` exclusively. The name is unique to that stale instance, so
 * exactly one process wins; the winner re-reads the lock, removes it only if it still holds T,
 * and removes its marker. A reclaimer that dies mid-way leaves a marker whose own staleness is
 * judged the same way (recursively), so no crash can wedge the lock. Two holders cannot result.
 * Before removing a stale lock the winner leaves `<lock>.owner-died`; whichever process creates
 * the lock next removes it and learns that the file's previous holder died ({@link ProcessLock.ownerDied}).
 *
 * Waiting for a lock held by another process polls with backoff (processes share no memory to
 * park on); every wait is bounded by a timeout or an AbortSignal. The file operations
 * themselves are synchronous: each is one system call of a few microseconds, where a round trip
 * through libuv's thread pool costs tens of them, several times per acquire.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { now } from '../shared/clock.js';
import { AbortedError, ConflictError } from '../shared/errors.js';
import { fileSystemError, onDisk } from './fs-errors.js';

/** What a lock file says about its owner. */
interface OwnerRecord {
  readonly token: string;
  readonly pid: number;
  readonly host: string;
  /** Start time of the owner process (Linux clock ticks since boot), if known. */
  readonly start: string | undefined;
  readonly acquiredAt: number;
}

/** Options of {@link ProcessLock.acquire}. */
export interface ProcessLockOptions {
  readonly staleMs: number;
  readonly timeoutMs: number;
  readonly signal: AbortSignal | undefined;
}

const SUFFIX = '.tributary-lock';
const OWNER_DIED_SUFFIX = '.owner-died';
const HOST = hostname();
const MAX_RECLAIM_DEPTH = 4;

/** Start time of process `pid` from /proc (Linux), or undefined where unknown. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); fields after the parenthesised command name are space-separated.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

const SELF_START = processStart(process.pid);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether `record` (read from `path`) names an owner that is provably gone. */
function isStale(record: OwnerRecord | undefined, path: string, staleMs: number): boolean {
  if (record !== undefined && record.host === HOST) {
    if (!isAlive(record.pid)) return true;
    const start = processStart(record.pid);
    return record.start !== undefined && start !== undefined && start !== record.start;
  }
  // Another host, or a record we cannot read: only the mtime can tell.
  try {
    return now() - statSync(path).mtimeMs > staleMs;
  } catch {
    return false;
  }
}

function readRecord(path: string): OwnerRecord | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as OwnerRecord;
  } catch {
    return undefined;
  }
}

/** Creates `path` holding `record`, atomically; false if it exists. */
function createExclusive(path: string, record: OwnerRecord): boolean {
  const temp = `${path}.${record.token}.tmp`;
  writeFileSync(temp, JSON.stringify(record));
  try {
    linkSync(temp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkIfPresent(temp);
  }
}

function unlinkIfPresent(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Removes the stale lock at `path` (whose record is `stale`) if this process wins the reclaim.
 * Either way the caller simply tries to create the lock again.
 */
function reclaim(path: string, stale: OwnerRecord, mine: OwnerRecord, staleMs: number, depth = 0): void {
  const marker = `${path}.${stale.token}.reclaim`;
  if (!createExclusive(marker, mine)) {
    // Someone else is reclaiming this very instance. If they died doing it, reclaim their marker.
    const other = readRecord(marker);
    if (depth < MAX_RECLAIM_DEPTH && other !== undefined && isStale(other, marker, staleMs)) {
      reclaim(marker, other, mine, staleMs, depth + 1);
    }
    return;
  }
  try {
    if (readRecord(path)?.token === stale.token) {
      // Only a lock on a target says anything about the target; a dead reclaimer's marker does not.
      if (path.endsWith(SUFFIX)) writeFileSync(`${path}${OWNER_DIED_SUFFIX}`, stale.token);
      unlinkIfPresent(path);
    }
  } finally {
    unlinkIfPresent(marker);
  }
}

// Waiting processes queue through marker files in `<lock>.queue/`, named `<since>.<token>`;
// `since` (zero-padded epoch ms, then a per-process counter) orders them. A directory of its
// own keeps the uncontended path to one failed readdir, however full the target's directory is.
let queued = 0;

/** A queued waiter: its marker file and the owner record inside it. */
interface Waiter {
  readonly marker: string;
  /** Undefined while its creator is still writing it. */
  readonly record: OwnerRecord | undefined;
}

function queueOf(lockPath: string): string {
  return `${lockPath}.queue`;
}

/** Leaves this process's place in the queue for `lockPath`; returns the marker's path. */
function queueUp(lockPath: string, record: OwnerRecord): string {
  const since = `${String(now()).padStart(15, '0')}-${String(queued++).padStart(6, '0')}`;
  const marker = join(queueOf(lockPath), `${since}.${record.token}`);
  for (;;) {
    try {
      mkdirSync(queueOf(lockPath), { recursive: true });
      writeFileSync(marker, JSON.stringify(record));
      return marker;
    } catch (error) {
      // The last waiter removed the emptied queue directory during our mkdir (which then fails
      // with ENOENT too) or between our mkdir and write: make it again.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Leaves the queue; removes the queue directory if it is now empty. */
function leaveQueue(lockPath: string, marker: string): void {
  unlinkIfPresent(marker);
  try {
    rmdirSync(queueOf(lockPath));
  } catch {
    // Not empty (others still wait) or already gone.
  }
}

/** Live waiters for `lockPath`, oldest first (stale markers are removed). */
function waiters(lockPath: string, staleMs: number): Waiter[] {
  // existsSync first: a failed readdirSync builds an Error with a stack, which tripled the cost
  // of an uncontended acquire (measured: 60 -> 190 us).
  if (!existsSync(queueOf(lockPath))) return [];
  let names: string[];
  try {
    names = readdirSync(queueOf(lockPath)).sort();
  } catch {
    return [];
  }
  const live: Waiter[] = [];
  for (const name of names) {
    const marker = join(queueOf(lockPath), name);
    const record = readRecord(marker);
    if (isStale(record, marker, staleMs)) unlinkIfPresent(marker);
    else live.push({ marker, record });
  }
  return live;
}

/** Whether live waiters queued before `mine` (any waiter at all when this one has no marker). */
function waitersAhead(lockPath: string, mine: string | undefined, staleMs: number): boolean {
  const queue = waiters(lockPath, staleMs).map((w) => w.marker);
  return mine === undefined ? queue.length > 0 : queue[0] !== mine && queue.includes(mine);
}

/** Whether another process waits for `target`'s lock (holders then stop handing it on). */
export function hasForeignWaiters(target: string, staleMs: number): boolean {
  // A record still being written counts as foreign: stopping the hand-on is the safe side.
  return waiters(`${target}${SUFFIX}`, staleMs).some((w) => w.record?.pid !== process.pid || w.record.host !== HOST);
}

/**
 * Removes the note a reclaimer left for `lockPath`'s next holder; returns whether there was one.
 * existsSync first: the note is rare, and a failed unlink builds an Error with a stack.
 */
function takeOwnerDiedNote(lockPath: string): boolean {
  const note = `${lockPath}${OWNER_DIED_SUFFIX}`;
  if (!existsSync(note)) return false;
  try {
    unlinkSync(note);
    return true;
  } catch {
    return false;
  }
}

/** An exclusive lock on a file, held by this process. */
export class ProcessLock {
  readonly lockPath: string;
  readonly #record: OwnerRecord;
  #refresh: NodeJS.Timeout | undefined;
  #released = false;
  /** Set if the lock file was found taken over (the holder was judged dead). */
  compromised = false;
  /** True when the previous holder of the lock died holding it: the target may be torn. */
  readonly ownerDied: boolean;

  private constructor(lockPath: string, record: OwnerRecord, staleMs: number) {
    this.lockPath = lockPath;
    this.#record = record;
    this.ownerDied = takeOwnerDiedNote(lockPath);
    // Refreshed from this (main) thread's timers, so a stream busy with CPU in a worker does
    // not make its lock look stale to other hosts. Unref'd: a held lock alone keeps no process alive.
    this.#refresh = setInterval(() => this.#touch(), Math.max(50, staleMs / 3)).unref();
  }

  /**
   * Waits (polling with backoff) until `target`'s lock file is this process's. A process that
   * has to wait queues: it leaves a marker, and processes that started waiting later hold back
   * until it has had its turn (see {@link hasForeignWaiters}), so no process starves another.
   */
  static async acquire(target: string, options: ProcessLockOptions): Promise<ProcessLock> {
    try {
      return await ProcessLock.#acquire(target, options);
    } catch (error) {
      throw fileSystemError(error, 'lock', target);
    }
  }

  static async #acquire(target: string, options: ProcessLockOptions): Promise<ProcessLock> {
    const lockPath = `${target}${SUFFIX}`;
    const record: OwnerRecord = { token: randomUUID(), pid: process.pid, host: HOST, start: SELF_START, acquiredAt: now() };
    const deadline = now() + options.timeoutMs;
    let marker: string | undefined;
    try {
      for (let delay = 2; ; delay = Math.min(50, delay * 2)) {
        if (!waitersAhead(lockPath, marker, options.staleMs) && createExclusive(lockPath, record)) {
          return new ProcessLock(lockPath, record, options.staleMs);
        }
        const holder = readRecord(lockPath);
        if (holder !== undefined && isStale(holder, lockPath, options.staleMs)) {
          reclaim(lockPath, holder, record, options.staleMs);
          continue;
        }
        marker ??= queueUp(lockPath, record);
        if (options.signal?.aborted) throw new AbortedError(`waiting for the lock on ${target} was aborted`, { cause: options.signal.reason });
        const left = deadline - now();
        if (left <= 0) {
          throw new ConflictError(
            `${target} stayed locked by process ${holder?.pid ?? '?'} for ${options.timeoutMs} ms; raise timeoutMs or find why it holds it so long`,
          );
        }
        await new Promise((r) => setTimeout(r, Math.min(delay, left)));
      }
    } finally {
      if (marker !== undefined) leaveQueue(lockPath, marker);
    }
  }

  /** Removes the lock file if it is still ours. Idempotent. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#refresh);
    if (readRecord(this.lockPath)?.token === this.#record.token) onDisk('unlock', this.lockPath, () => unlinkIfPresent(this.lockPath));
  }

  #touch(): void {
    if (readRecord(this.lockPath)?.token !== this.#record.token) {
      this.compromised = true;
      clearInterval(this.#refresh);
      return;
    }
    const t = new Date();
    try {
      utimesSync(this.lockPath, t, t);
    } catch {
      // Gone between the read and the touch: the next touch reports it compromised.
    }
  }
}
