/**
 * Files on the cluster: file locks that hold across hosts, and per-stream directories on a file
 * system the nodes share.
 *
 * **The shared root.** Nodes may run on different hosts, so a file means something to all of
 * them only on a shared file system (NFS, a cloud volume, ...). Each process names *its own*
 * path to it (`--shared-root` of a node, `sharedRoot` of a coordinator): hosts may mount it at
 * different places.
 *
 * **File locks** are a fenced {@link RedisMutex} per file, keyed by the file's path relative to
 * the shared root when it lies under it (so every host locks the same file whatever its mount
 * point), and by its real path otherwise (right for a share mounted at the same path
 * everywhere, or for files of one host). Every lock is exclusive: `read` excludes like `write`,
 * as the in-process locks do across processes. A lock lives as long as its holder's session
 * lease; the next holder after a holder's node died gets `ownerDied` and a higher token.
 *
 * **Stream directories** are `<shared root>/streams/<run id>/<stream id>/attempt-<n>`, made by
 * the node before the attempt starts, `n` being the job's attempt (counted across nodes, so a
 * re-run never shares a directory with a zombie predecessor). The coordinator merges each
 * stream's newest attempt with the in-process merge rules (`mergeStreamDirectories`).
 */
import { readdirSync, realpathSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { checkStreamId, mergeStreamDirectories, type MergeEntry, type MergeOptions } from '../fs/directory-isolation.js';
import { onDisk } from '../fs/fs-errors.js';
import { asConflict, resolveFile } from '../fs/file-lock-manager.js';
import type { LockMode } from '../fs/lock-table.js';
import { filePath, oneOf } from '../shared/validate.js';
import { checkWaitOptions, type WaitOptions } from '../shared/wait.js';
import { RedisMutex, type RedisMutexGuard } from './primitives/mutex.js';
import type { Session } from './primitives/session.js';

/** Directory under the shared root that holds every run's stream directories. */
export const STREAMS_DIR = 'streams';

/** Default wait for a file lock, as in-process (ms). */
export const FILE_LOCK_TIMEOUT_MS = 30_000;

const LOCK_MODES: readonly LockMode[] = ['read', 'write'];

/** A held cluster file lock. Release it with `release()` or `await using`. */
export interface ClusterFileLock extends AsyncDisposable {
  /** The path the lock is keyed by: relative to the shared root (`shared:` prefix) or the real path. */
  readonly path: string;
  readonly mode: LockMode;
  /** The previous holder's node or stream attempt died holding it: the file may be torn; repair it. */
  readonly ownerDied: boolean;
  /** Fencing token of this grant: higher than any before it on this file. */
  readonly token: number;
  /** Whether this lock is still held (by this holder's account). */
  readonly held: boolean;
  /** Releases the lock. Idempotent: a second call does nothing. */
  release(): Promise<void>;
}

/** The lock key of `path` as this process sees it (see the module documentation). */
export function fileLockKey(path: string, sharedRoot: string | undefined): string {
  const real = resolveFile(path);
  if (sharedRoot !== undefined) {
    const rel = relative(sharedRoot, real);
    if (rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)) return `shared:${rel.split(sep).join('/')}`;
  }
  return real;
}

/** File locks on Redis, for one holder (a coordinator, or one stream attempt on a node). */
export class RedisFileLocks {
  readonly #session: Session;
  readonly #sharedRoot: string | undefined;
  readonly #holder: string | undefined;
  readonly #timeoutMs: number;

  /**
   * @param sharedRoot this process's path to the shared file system; default none (real paths).
   * @param holder tells apart holders of one session (stream attempts of one node); default the session.
   * @param timeoutMs default wait; default {@link FILE_LOCK_TIMEOUT_MS}.
   */
  constructor(session: Session, options?: { readonly sharedRoot?: string; readonly holder?: string; readonly timeoutMs?: number }) {
    this.#session = session;
    const root = options?.sharedRoot;
    // Its real path: lock keys compare real paths of files against it.
    this.#sharedRoot = root === undefined ? undefined : onDisk('resolve', root, () => realpathSync.native(resolve(root)));
    this.#holder = options?.holder;
    this.#timeoutMs = options?.timeoutMs ?? FILE_LOCK_TIMEOUT_MS;
  }

  /**
   * Locks `path` (exclusively, whatever `mode`), waiting up to `options.timeoutMs`.
   * @throws ConflictError when it cannot be had in time; AbortedError; InvalidArgumentError for a
   * bad mode, a directory or a missing directory; FileSystemError when the file system refuses the path.
   */
  async acquireFileLock(path: string, mode: LockMode = 'write', options?: WaitOptions): Promise<ClusterFileLock> {
    const { key, guard } = await this.lockGuard(path, mode, options);
    return fileLock(key, mode, guard);
  }

  /** @internal `acquireFileLock`, answering the key and the mutex guard (a node releases a stream's leftovers as owner-died). */
  async lockGuard(path: string, mode: LockMode, options?: WaitOptions): Promise<{ key: string; guard: RedisMutexGuard }> {
    filePath('path', path);
    oneOf('mode', mode, LOCK_MODES);
    checkWaitOptions(options);
    const key = fileLockKey(path, this.#sharedRoot);
    const mutex = new RedisMutex(this.#session, `file:${key}`, this.#holder);
    const guard = await mutex.lock({ ...options, timeoutMs: options?.timeoutMs ?? this.#timeoutMs }).catch((error: unknown) => {
      throw asConflict(error, path);
    });
    return { key, guard };
  }
}

function fileLock(path: string, mode: LockMode, guard: RedisMutexGuard): ClusterFileLock {
  const release = async (): Promise<void> => {
    if (guard.held) await guard.unlock();
  };
  return {
    path,
    mode,
    ownerDied: guard.ownerDied,
    token: guard.token,
    get held() {
      return guard.held;
    },
    release,
    [Symbol.asyncDispose]: release,
  };
}

/** The directory of attempt `attempt` of stream `streamId` of run `runId`, under a shared root. */
export function streamDirectory(sharedRoot: string, runId: string, streamId: string, attempt: number): string {
  checkStreamId(streamId);
  return join(sharedRoot, STREAMS_DIR, runId, streamId, `attempt-${attempt}`);
}

/**
 * The coordinator's view of its runs' stream directories (`coordinator.isolation`): the same
 * `directoryOf` and `mergeStreamOutputs` as the in-process `DirectoryIsolation`.
 */
export class ClusterIsolation {
  /** The coordinator's path to `<shared root>/streams`. */
  readonly root: string;
  /** Stream ids of each run, oldest run first. */
  readonly #runs: { readonly runId: string; readonly streams: readonly string[] }[] = [];

  /** @param sharedRoot the coordinator's path to the shared file system. */
  constructor(sharedRoot: string) {
    this.root = join(resolve(filePath('options.sharedRoot', sharedRoot)), STREAMS_DIR);
  }

  /** @internal A run's streams get directories on the nodes. */
  addRun(runId: string, streams: readonly string[]): void {
    this.#runs.push({ runId, streams });
  }

  /** The newest directory of `streamId` (its newest run's highest attempt), if a node made one. */
  directoryOf(streamId: string): string | undefined {
    for (let i = this.#runs.length - 1; i >= 0; i--) {
      const run = this.#runs[i]!;
      if (!run.streams.includes(streamId)) continue;
      const dir = join(this.root, run.runId, streamId);
      const attempts = onDisk('list', dir, () => readdirIfAny(dir))
        .map((name) => /^attempt-(\d+)$/.exec(name)?.[1])
        .filter((n): n is string => n !== undefined)
        .map(Number);
      if (attempts.length > 0) return join(dir, `attempt-${Math.max(...attempts)}`);
    }
    return undefined;
  }

  /**
   * Merges every stream's newest directory, under the in-process rules and options.
   * @throws MergeConflictError under `onConflict: 'error'`; FileSystemError when a file cannot be read or written.
   */
  async mergeStreamOutputs(options?: MergeOptions): Promise<MergeEntry[]> {
    const latest = new Map<string, string>();
    for (const id of new Set(this.#runs.flatMap((r) => r.streams))) {
      const dir = this.directoryOf(id);
      if (dir !== undefined) latest.set(id, dir);
    }
    return mergeStreamDirectories(latest, options);
  }

  /** Removes the directories of this coordinator's runs. */
  cleanup(): void {
    for (const { runId } of this.#runs) {
      const dir = join(this.root, runId);
      onDisk('remove', dir, () => rmSync(dir, { recursive: true, force: true }));
    }
    this.#runs.length = 0;
  }
}

function readdirIfAny(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
