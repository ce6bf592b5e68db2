// Issue 12 item 4: a dead or cancelled file-lock waiter leaves nothing behind, and a lock taken
// over from a dead holder (thread or process) tells the new holder ownerDied.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError, FileLock, FileLockManager, StreamCoordinator, watchWorker } from '@tributary/runtime';
import { exited, node, printed } from './fs-processes.js';
import { firstMessage, startWorker, streamModule } from './helpers.js';

let dir: string;
let locks: FileLockManager | undefined;
const workers: Worker[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-fs-recovery-'));
});
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
  await locks?.close();
  locks = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** A worker on `locks`' table doing `action` on `file`, watched so its death is recovered. */
async function lockThread(file: string, action: 'write' | 'wait'): Promise<Worker> {
  const worker = startWorker('file-lock-thread.mjs', { handle: locks!.handle, file, action });
  workers.push(worker);
  watchWorker(worker);
  expect(await firstMessage(worker)).toBe(action === 'write' ? 'held' : 'waiting');
  return worker;
}

/** Terminates `worker` and waits until its exit (and so its recovery) has been handled. */
async function kill(worker: Worker): Promise<void> {
  const gone = new Promise((resolve) => worker.once('exit', resolve));
  await worker.terminate();
  await gone;
}

/** Resolves once a writer is queued on `file` (new readers are then held back). Bounded. */
async function untilWriterQueued(file: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const read = await locks!.acquireFileLock(file, 'read', { timeoutMs: 20 }).catch((e: unknown) => e);
    if (read instanceof ConflictError) return;
    if (!(read instanceof FileLock)) throw read;
    await read.release();
  }
  throw new Error('the worker never queued for the write lock');
}

describe('file locks: dead and cancelled waiters leave nothing behind', () => {
  it('a thread terminated while queued for a write lock: readers are not refused, slots are not leaked', async () => {
    // Two slots: a leaked slot per dead waiter would give CapacityError by the third file.
    locks = new FileLockManager({ crossProcess: false, maxFiles: 2 });
    for (let round = 0; round < 4; round++) {
      const file = join(dir, `f${round}.txt`);
      // The main thread reads; the worker queues to write; new readers now hold back for it.
      const read = await locks.acquireFileLock(file, 'read', { timeoutMs: 1_000 });
      const waiter = await lockThread(file, 'wait');
      await untilWriterQueued(file);
      await kill(waiter);
      const next = await locks.acquireFileLock(file, 'read', { timeoutMs: 1_000 });
      expect(next.ownerDied).toBe(false);
      await next.release();
      await read.release();
    }
  });

  it('timed-out and aborted waiters undo their wait: many cancels, no refused reader, no CapacityError', async () => {
    locks = new FileLockManager({ crossProcess: false, maxFiles: 2 });
    for (let i = 0; i < 20; i++) {
      const file = join(dir, `c${i}.txt`);
      const held = await locks.acquireFileLock(file, 'write', { timeoutMs: 1_000 });
      await expect(locks.acquireFileLock(file, 'write', { timeoutMs: 5 })).rejects.toBeInstanceOf(ConflictError);
      const ac = new AbortController();
      const aborted = locks.acquireFileLock(file, 'write', { signal: ac.signal, timeoutMs: 10_000 });
      ac.abort();
      await expect(aborted).rejects.toMatchObject({ code: 'ERR_TRIBUTARY_ABORTED' });
      await held.release();
      const read = await locks.acquireFileLock(file, 'read', { timeoutMs: 1_000 });
      await read.release();
    }
  });
});

describe('file locks: the next holder after a dead one is told ownerDied', () => {
  it('a thread terminated holding a write lock: readers see ownerDied until a writer takes it over', async () => {
    locks = new FileLockManager({ crossProcess: false });
    const file = join(dir, 'torn.txt');
    await kill(await lockThread(file, 'write'));
    const read = await locks.acquireFileLock(file, 'read', { timeoutMs: 1_000 });
    expect(read.ownerDied).toBe(true);
    await read.release();
    const repair = await locks.acquireFileLock(file, 'write', { timeoutMs: 1_000 });
    expect(repair.ownerDied).toBe(true);
    await repair.release();
    const after = await locks.acquireFileLock(file, 'write', { timeoutMs: 1_000 });
    expect(after.ownerDied).toBe(false);
    await after.release();
  });

  it('a process SIGKILLed mid-append: the next process holder sees ownerDied and repairs the torn line', async () => {
    const file = join(dir, 'log.txt');
    await writeFile(file, 'complete line\n');
    const writer = node('process-torn-writer.mjs', file);
    await printed(writer, 'torn');
    writer.kill('SIGKILL');
    await exited(writer);
    locks = new FileLockManager({ timeoutMs: 5_000 });
    const lock = await locks.acquireFileLock(file, 'write');
    expect(lock.ownerDied).toBe(true);
    // The repair ownerDied makes possible: drop the torn tail.
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('\n')).toBe(false);
    await writeFile(file, text.slice(0, text.lastIndexOf('\n') + 1));
    await lock.release();
    // Told once: the next process to lock it hears nothing.
    const next = node('process-torn-writer.mjs', file);
    expect(await printed(next, 'torn')).not.toContain('ownerDied');
    next.kill('SIGKILL');
    await exited(next);
    const again = await locks.acquireFileLock(file, 'write');
    expect(again.ownerDied).toBe(true);
    await again.release();
  });

  it('a stream taking over a dead process\'s lock file through ctx.fileLocks is told ownerDied', async () => {
    const file = join(dir, 'stream.txt');
    const gone = spawn(process.execPath, ['-e', '']);
    await exited(gone);
    // The lock file of a process that died holding it.
    await writeFile(`${file}.tributary-lock`, JSON.stringify({ token: 'dead', pid: gone.pid, host: hostname(), start: undefined, acquiredAt: Date.now() }));
    const coordinator = new StreamCoordinator({ maxThreads: 1 });
    try {
      const run = (): Promise<unknown> =>
        coordinator.executeParallel([{ id: 'r', task: streamModule('lock-report.mjs'), input: { file } }]).then((r) => r[0]);
      expect(await run()).toMatchObject({ status: 'complete', value: { ownerDied: true } });
      expect(await run()).toMatchObject({ status: 'complete', value: { ownerDied: false } });
    } finally {
      await coordinator.close();
    }
  });
});
