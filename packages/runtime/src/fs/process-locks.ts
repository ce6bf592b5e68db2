/**
 * The main thread's broker of process-level file locks: one {@link ProcessLock} per file per
 * process, counted by holder thread, taken when the first thread of this process needs it and
 * released when the last one is done. Workers reach it through the coordinator's services
 * (Comlink), so the lock file's refresh runs on the main thread, never on a busy worker.
 */
import { hasForeignWaiters, ProcessLock } from './process-lock.js';

/** What a thread needs of the process-level locks (the broker, or a Comlink proxy of it). */
export interface ProcessLocks {
  /**
   * Holds `path`'s process lock for thread `holder` (waits up to `timeoutMs`). Resolves true
   * when the lock file was taken over from a process that died holding it (told once).
   */
  acquire(path: string, holder: number, timeoutMs: number): Promise<boolean>;
  /** Drops one hold of `path` by `holder`. */
  release(path: string, holder: number): Promise<void>;
}

interface Entry {
  readonly lock: Promise<ProcessLock>;
  readonly holders: Map<number, number>;
  /** Settles when the entry is dropped (its last holder released). */
  readonly gone: Promise<void>;
  readonly drop: () => void;
  /** Whether the holder that learns of a dead previous owner has been told already. */
  ownerDiedTold: boolean;
}

function newEntry(lock: Promise<ProcessLock>): Entry {
  let drop!: () => void;
  const gone = new Promise<void>((resolve) => (drop = resolve));
  return { lock, holders: new Map(), gone, drop, ownerDiedTold: false };
}

/** Reference-counted process locks for every thread of this process. Main thread only. */
export class ProcessLockBroker implements ProcessLocks {
  readonly #staleMs: number;
  readonly #entries = new Map<string, Entry>();

  constructor(staleMs: number) {
    this.#staleMs = staleMs;
  }

  async acquire(path: string, holder: number, timeoutMs: number): Promise<boolean> {
    let entry = this.#entries.get(path);
    // Another process is queued: stop handing the lock file from thread to thread here, let
    // it go when the current holders are done, and queue behind that process.
    if (entry !== undefined && hasForeignWaiters(path, this.#staleMs)) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([entry.gone, new Promise((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
      entry = this.#entries.get(path);
    }
    if (entry === undefined) {
      entry = newEntry(ProcessLock.acquire(path, { staleMs: this.#staleMs, timeoutMs, signal: undefined }));
      this.#entries.set(path, entry);
    }
    entry.holders.set(holder, (entry.holders.get(holder) ?? 0) + 1);
    let lock: ProcessLock;
    try {
      lock = await entry.lock;
    } catch (error) {
      await this.release(path, holder);
      throw error;
    }
    // The first thread of this process to hold the file hears of the dead process, once.
    if (!lock.ownerDied || entry.ownerDiedTold) return false;
    entry.ownerDiedTold = true;
    return true;
  }

  async release(path: string, holder: number): Promise<void> {
    const entry = this.#entries.get(path);
    const count = entry?.holders.get(holder);
    if (entry === undefined || count === undefined) return;
    if (count > 1) entry.holders.set(holder, count - 1);
    else entry.holders.delete(holder);
    if (entry.holders.size > 0) return;
    this.#entries.delete(path);
    entry.drop();
    const lock = await entry.lock.catch(() => undefined);
    await lock?.release();
  }

  /** Drops every hold of a thread that died; returns how many. */
  releaseAllOf(holder: number): number {
    let dropped = 0;
    for (const [path, entry] of this.#entries) {
      const count = entry.holders.get(holder) ?? 0;
      for (let i = 0; i < count; i++) void this.release(path, holder);
      dropped += count;
    }
    return dropped;
  }

  /** Releases every process lock this process holds. */
  async releaseAll(): Promise<void> {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const e of entries) e.drop();
    await Promise.all(entries.map(async (e) => (await e.lock.catch(() => undefined))?.release()));
  }
}
