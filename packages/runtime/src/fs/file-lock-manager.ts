/**
 * FileLockManager: file locks that hold across threads *and* processes (the spec's race
 * prevention). Two levels, always taken in this order:
 *
 * 1. **Threads of this process**: a reader/writer lock in a shared-memory table keyed by the
 *    file's real path (`lock-table.ts`), so `ctx.fileLocks` in streams and the coordinator's own
 *    manager exclude each other without messages; two spellings of one file are one lock.
 * 2. **Processes**: an exclusive lock file next to the target (`process-lock.ts`), held by this
 *    process's main thread for as long as any of its threads holds the file.
 *
 * **Modes.** `write` is exclusive everywhere. `read` is shared among the threads of one
 * process; across processes every lock is exclusive (the lock file has one owner).
 *
 * **Waiting.** `acquireFileLock` waits up to `timeoutMs` (default 30 s), then rejects with
 * `ConflictError`; an `AbortSignal` stops it early. Locks are not re-entrant, but independent
 * async tasks of one thread may contend for the same file and queue like threads.
 *
 * **Failure.** What a thread holds or waits for when it dies is undone by the thread that
 * watched it (see `watchWorker`); a waiter that times out or is aborted undoes its own. A
 * process killed holding a lock file loses it to the next process at once on the same host, or
 * after `staleMs` across hosts. Either way the next holder gets `lock.ownerDied === true`: the
 * file may be half-written, and it is the one to repair it.
 *
 * @example
 * ```ts
 * const locks = new FileLockManager();
 * {
 *   await using lock = await locks.acquireFileLock('data.txt', 'write');
 *   await appendFile('data.txt', 'line\n');
 * }
 * ```
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { threadId } from 'node:worker_threads';
import { Arena } from '../shared/arena.js';
import { ConflictError, InvalidArgumentError, InvalidStateError, TimeoutError } from '../shared/errors.js';
import { checkHandle, type Handle } from '../shared/handle.js';
import { currentToken, onMainThread } from '../shared/thread.js';
import { callback, filePath, integerIn, nonNegativeFinite, oneOf, optionsObject, positiveFinite } from '../shared/validate.js';
import { checkWaitOptions, startWait, untilAsync, type WaitOptions } from '../shared/wait.js';
import { Mutex, type MutexHandle } from '../sync/mutex.js';
import { onThreadDeath } from '../sync/robust.js';
import { fileSystemError, onDisk } from './fs-errors.js';
import { LockTable, tableBytes, type LockMode, type LockTableShape } from './lock-table.js';
import { ProcessLockBroker, type ProcessLocks } from './process-locks.js';

/** Options of a {@link FileLockManager}. */
export interface FileLockManagerOptions {
  /** Default wait for a lock, ms. Default 30,000. */
  readonly timeoutMs?: number;
  /** Age after which another host's lock file counts as abandoned, ms. Default 10,000. */
  readonly staleMs?: number;
  /** Files that can be locked (or waited for) at once in this process. Default 256. */
  readonly maxFiles?: number;
  /** Longest real path, in UTF-8 bytes. Default 1,024. */
  readonly maxPathBytes?: number;
  /**
   * Also exclude other processes through a lock file. Default true; false when only this
   * process touches the files (thread-level locks alone are ~100x cheaper).
   */
  readonly crossProcess?: boolean;
}

/** Structured-cloneable description of a {@link FileLockManager}'s thread-level table. */
export interface FileLockManagerHandle extends Handle<'FileLockManager'>, LockTableShape {
  /** The table lock: guards claiming and freeing slots. */
  readonly lock: MutexHandle;
  readonly timeoutMs: number;
  readonly crossProcess: boolean;
}

/** A held file lock. Release it with `release()` or `await using`. */
export class FileLock implements AsyncDisposable {
  /** The file's real path. */
  readonly path: string;
  readonly mode: LockMode;
  /**
   * True when a holder of this file died holding it for writing (a thread, or another process
   * killed holding its lock file) and no writer has held it since: the file may be torn. A
   * `write` holder that sees it is the one to repair it; after it, nobody sees it again.
   */
  readonly ownerDied: boolean;
  #release: (() => Promise<void>) | undefined;

  /** @internal */
  constructor(path: string, mode: LockMode, ownerDied: boolean, release: () => Promise<void>) {
    this.path = path;
    this.mode = mode;
    this.ownerDied = ownerDied;
    this.#release = release;
  }

  /** Whether this lock is still held. */
  get held(): boolean {
    return this.#release !== undefined;
  }

  /** Releases the lock. Idempotent: a second call does nothing. */
  async release(): Promise<void> {
    const release = this.#release;
    this.#release = undefined;
    await release?.();
  }

  /** `await using lock = await manager.acquireFileLock(...)` releases at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}

/** File locks across threads and processes. See the module documentation. */
export class FileLockManager {
  readonly #handle: FileLockManagerHandle;
  readonly #table: LockTable;
  readonly #tableLock: Mutex;
  readonly #processLocks: ProcessLocks;
  readonly #broker: ProcessLockBroker | undefined;
  readonly #held = new Set<FileLock>();
  readonly #stopRecovery: (() => void) | undefined;
  #closed = false;

  /** A manager with its own lock table (main thread). */
  constructor(options?: FileLockManagerOptions) {
    const adopted = adopting;
    adopting = undefined;
    if (adopted !== undefined) {
      this.#handle = adopted.handle;
      this.#processLocks = adopted.processLocks;
    } else {
      if (!onMainThread) throw new InvalidStateError('create a FileLockManager on the main thread; workers get one from a handle (ctx.fileLocks)');
      this.#handle = newTable(options);
      const broker = new ProcessLockBroker(staleMsOf(options));
      this.#broker = broker;
      this.#processLocks = broker;
    }
    this.#table = new LockTable(this.#handle, this.#handle);
    this.#tableLock = Mutex.from(this.#handle.lock);
    if (this.#broker !== undefined) {
      const table = this.#table;
      const broker = this.#broker;
      // A worker that dies holding or waiting for file locks: undo its table entries and drop its process holds.
      this.#stopRecovery = onThreadDeath((token, deadThread) => table.recover(token) + broker.releaseAllOf(deadThread));
    }
  }

  /**
   * The same table seen from a worker, with process-level locks taken through `processLocks`
   * (the coordinator's services proxy).
   */
  static from(handle: FileLockManagerHandle, processLocks: ProcessLocks): FileLockManager {
    const p = optionsObject('processLocks', processLocks);
    callback('processLocks.acquire', p.acquire!);
    callback('processLocks.release', p.release!);
    adopting = { handle: checkTableHandle(handle), processLocks };
    try {
      return new FileLockManager();
    } finally {
      adopting = undefined;
    }
  }

  /** The structured-cloneable handle of the thread-level table. */
  get handle(): FileLockManagerHandle {
    return this.#handle;
  }

  /** The broker of this process's lock files (main thread manager only). @internal */
  get processLocks(): ProcessLocks {
    return this.#processLocks;
  }

  /**
   * Locks `path` for `mode`, waiting up to `options.timeoutMs` (default: the manager's).
   * @throws ConflictError when it cannot be had in time; InvalidArgumentError for a bad mode,
   * an empty path or one with a NUL, a directory, or a path in a directory that does not exist;
   * FileSystemError (with `errno` and `path`) when the file system refuses the path.
   */
  async acquireFileLock(path: string, mode: LockMode = 'write', options?: WaitOptions): Promise<FileLock> {
    if (this.#closed) throw new InvalidStateError('this FileLockManager is closed');
    filePath('path', path);
    oneOf('mode', mode, LOCK_MODES);
    checkWaitOptions(options);
    const timeoutMs = options?.timeoutMs ?? this.#handle.timeoutMs;
    const ctx = startWait(`acquireFileLock(${path}, '${mode}')`, { timeoutMs, ...(options?.signal ? { signal: options.signal } : {}) });
    const real = resolveFile(path);
    const table = this.#table;
    const bytes = table.encode(real);
    const tableLock = this.#tableLock;
    // The table lock is held for microseconds, but a descheduled holder can make it a wait of
    // its own: it shares the caller's deadline and signal, and runs out as a ConflictError too.
    const entered = await tableLock.lockAsync({ timeoutMs, ...(options?.signal ? { signal: options.signal } : {}) }).catch((error: unknown) => {
      throw asConflict(error, real);
    });
    const slot = table.enter(bytes, mode, currentToken, entered);
    // Every way out after `enter` leaves once, so a timed-out or aborted waiter leaves nothing behind.
    const leave = async (): Promise<void> => table.leave(slot, currentToken, await tableLock.lockAsync(TABLE_LOCK_WAIT));
    let ownerDied: boolean;
    try {
      try {
        await untilAsync(ctx, () => table.step(slot, mode, currentToken));
      } finally {
        if (mode === 'write') table.writerDone(slot, currentToken);
      }
      ownerDied = table.ownerDied(slot, mode);
    } catch (error) {
      await leave();
      throw asConflict(error, real);
    }
    const crossProcess = this.#handle.crossProcess;
    try {
      if (crossProcess && (await this.#processLocks.acquire(real, threadId, Math.max(0, ctx.deadline - Date.now())))) ownerDied = true;
    } catch (error) {
      table.release(slot, mode, currentToken);
      await leave();
      throw asConflict(error, real);
    }
    const lock: FileLock = new FileLock(real, mode, ownerDied, async () => {
      this.#held.delete(lock);
      table.release(slot, mode, currentToken);
      await leave();
      if (crossProcess) await this.#processLocks.release(real, threadId);
    });
    this.#held.add(lock);
    return lock;
  }

  /** Releases every lock this manager holds (and, on the main thread, stops recovery). */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#held].map((l) => l.release()));
    this.#stopRecovery?.();
    await this.#broker?.releaseAll();
  }
}

/** Wait for the table lock when leaving a slot: it is held for microseconds, and a dead holder is recovered. */
const TABLE_LOCK_WAIT: WaitOptions = { timeoutMs: 10_000 };

const LOCK_MODES: readonly LockMode[] = ['read', 'write'];

// Hand-off from `from` to the constructor (JavaScript runs one constructor at a time per thread).
let adopting: { readonly handle: FileLockManagerHandle; readonly processLocks: ProcessLocks } | undefined;

function staleMsOf(options: FileLockManagerOptions | undefined): number {
  const o = optionsObject('options', options);
  return o.staleMs === undefined ? 10_000 : positiveFinite('options.staleMs', o.staleMs);
}

/**
 * A fresh table for `options`: one arena holds the table lock (a real `Mutex`) and the slots,
 * so the handle carries both in one buffer.
 */
function newTable(options: FileLockManagerOptions | undefined): FileLockManagerHandle {
  const o = optionsObject('options', options);
  const timeoutMs = o.timeoutMs === undefined ? 30_000 : nonNegativeFinite('options.timeoutMs', o.timeoutMs);
  staleMsOf(options);
  const shape: LockTableShape = {
    slots: o.maxFiles === undefined ? 256 : integerIn('options.maxFiles', o.maxFiles, 1, 1 << 16),
    maxPathBytes: o.maxPathBytes === undefined ? 1024 : integerIn('options.maxPathBytes', o.maxPathBytes, 16, 1 << 16),
  };
  if (o.crossProcess !== undefined && typeof o.crossProcess !== 'boolean') throw new InvalidArgumentError('options.crossProcess must be a boolean');
  const bytes = tableBytes(shape);
  const arena = new Arena(MUTEX_BYTES + bytes);
  const lock = new Mutex({ arena });
  const region = arena.allocate(bytes);
  return { kind: 'FileLockManager', ...region, lock: lock.handle, ...shape, timeoutMs, crossProcess: o.crossProcess ?? true };
}

/** Bytes a `Mutex` takes in an arena (one word, rounded to the arena's 8-byte alignment). */
const MUTEX_BYTES = 8;

/** Checks a handle from another thread before any view is built on it. */
function checkTableHandle(handle: FileLockManagerHandle): FileLockManagerHandle {
  const h = checkHandle<FileLockManagerHandle>(handle, 'FileLockManager');
  const shape = { slots: integerIn('handle.slots', h.slots, 1, 1 << 16), maxPathBytes: integerIn('handle.maxPathBytes', h.maxPathBytes, 16, 1 << 16) };
  checkHandle<FileLockManagerHandle>(handle, 'FileLockManager', tableBytes(shape));
  checkHandle<MutexHandle>(h.lock, 'Mutex');
  return h;
}

/**
 * The real path of `path`; for a file that does not exist yet, its real directory + name.
 * Synchronous on purpose: one realpath(3) and one stat(2) cost a few microseconds, a round
 * trip through libuv's thread pool tens of them, and this is on every acquire.
 * @throws InvalidArgumentError for a directory or a missing directory; FileSystemError when the file system refuses the path.
 */
export function resolveFile(path: string): string {
  const absolute = resolve(path);
  let real: string;
  try {
    real = realpathSync.native(absolute);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw fileSystemError(error, 'lock', path);
    try {
      return join(realpathSync.native(dirname(absolute)), basename(absolute));
    } catch (inDirectory) {
      if ((inDirectory as NodeJS.ErrnoException).code !== 'ENOENT') throw fileSystemError(inDirectory, 'lock', path);
      throw new InvalidArgumentError(`cannot lock ${path}: its directory does not exist`);
    }
  }
  if (onDisk('lock', real, () => statSync(real)).isDirectory()) throw new InvalidArgumentError(`${path} is a directory; file locks are taken on files`);
  return real;
}

/** A wait that timed out as the ConflictError file locks throw; anything else unchanged. */
export function asConflict(error: unknown, path: string): unknown {
  if (error instanceof TimeoutError) {
    return new ConflictError(`${path} could not be locked in time: another holder kept it; raise timeoutMs or release it sooner`, { cause: error });
  }
  return error;
}
