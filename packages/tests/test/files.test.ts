// Scenario 2 (race prevention) across threads and processes, and scenario 6 (isolation).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  DirectoryIsolation,
  FileLockManager,
  InvalidArgumentError,
  MergeConflictError,
  StreamCoordinator,
} from '@tributary/runtime';
import { exited, node, printed } from './fs-processes.js';
import { streamModule } from './helpers.js';

let dir: string;
let coordinator: StreamCoordinator | undefined;
let locks: FileLockManager | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-files-'));
});
afterEach(async () => {
  await coordinator?.close();
  await locks?.close();
  coordinator = undefined;
  locks = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('scenario 2: race prevention', () => {
  it('10 streams on worker threads read-modify-write one file: 10 lines, no conflicts', async () => {
    coordinator = new StreamCoordinator({ maxThreads: 10 });
    const file = join(dir, 'test.txt');
    const results = await coordinator.executeParallel(
      Array.from({ length: 10 }, (_, i) => ({ id: `${i}`, task: streamModule('append-line.mjs'), input: { file } })),
    );
    expect(results.filter((r) => r.status !== 'complete')).toEqual([]);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(new Set(lines).size).toBe(10);
  });

  it('3 OS processes x 40 read-modify-write appends: exactly 120 lines', async () => {
    const file = join(dir, 'shared.txt');
    const children = [0, 1, 2].map(() => node('process-appender.mjs', file, '40'));
    expect(await Promise.all(children.map((c) => exited(c)))).toEqual([0, 0, 0]);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(120);
    expect(new Set(lines).size).toBe(120);
  });

  it('streams and the main thread and another process all exclude each other', async () => {
    coordinator = new StreamCoordinator({ maxThreads: 2 });
    const file = join(dir, 'mixed.txt');
    const child = node('process-appender.mjs', file, '30');
    const streams = coordinator.executeParallel([0, 1].map((i) => ({ id: `t${i}`, task: streamModule('append-line.mjs'), input: { file, lines: 15 } })));
    for (let i = 0; i < 15; i++) {
      const lock = await coordinator.fileLocks.acquireFileLock(file, 'write');
      await writeFile(file, `${await readFile(file, 'utf8').catch(() => '')}main:${i}\n`);
      await lock.release();
    }
    await streams;
    expect(await exited(child)).toBe(0);
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(30 + 30 + 15);
  });

  it('a holder killed with SIGKILL does not block the next process', async () => {
    const file = join(dir, 'killed.txt');
    const holder = node('process-holder.mjs', file);
    await printed(holder, 'locked');
    locks = new FileLockManager({ staleMs: 2_000 });
    await expect(locks.acquireFileLock(file, 'write', { timeoutMs: 100 })).rejects.toBeInstanceOf(ConflictError);
    holder.kill('SIGKILL');
    await exited(holder);
    const started = Date.now();
    const lock = await locks.acquireFileLock(file, 'write', { timeoutMs: 2_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    await lock.release();
    expect(existsSync(`${file}.tributary-lock`)).toBe(false);
  });

  it('processes racing to reclaim a dead holder\'s lock file: one winner at a time, no lost line', async () => {
    const file = join(dir, 'reclaimed.txt');
    // A lock file left by a process that no longer exists.
    const gone = spawn(process.execPath, ['-e', '']);
    await exited(gone);
    const record = { token: 'dead-holder', pid: gone.pid, host: hostname(), start: undefined, acquiredAt: Date.now() };
    await writeFile(`${file}.tributary-lock`, JSON.stringify(record));
    const children = [0, 1, 2].map(() => node('process-appender.mjs', file, '20'));
    expect(await Promise.all(children.map((c) => exited(c)))).toEqual([0, 0, 0]);
    expect((await readFile(file, 'utf8')).trim().split('\n')).toHaveLength(60);
    expect(existsSync(`${file}.tributary-lock`)).toBe(false);
  });

  it('a worker terminated while holding the lock: another thread gets it', async () => {
    coordinator = new StreamCoordinator({ maxThreads: 1, cancelGraceMs: 20 });
    const file = join(dir, 'held.txt');
    const held = new SharedArrayBuffer(4);
    const ac = new AbortController();
    const run = coordinator.executeParallel([{ id: 'holder', task: streamModule('hold-file.mjs'), input: { file, held } }], { signal: ac.signal });
    await Atomics.waitAsync(new Int32Array(held), 0, 0, 10_000).value;
    await expect(coordinator.fileLocks.acquireFileLock(file, 'write', { timeoutMs: 50 })).rejects.toBeInstanceOf(ConflictError);
    ac.abort();
    expect((await run)[0]!.status).toBe('cancelled');
    const lock = await coordinator.fileLocks.acquireFileLock(file, 'write', { timeoutMs: 5_000 });
    await lock.release();
  });

  it('readers share, a writer excludes, and two spellings of one file are one lock', async () => {
    locks = new FileLockManager();
    const file = join(dir, 'data.txt');
    await writeFile(file, 'x');
    await symlink(file, join(dir, 'alias.txt'));
    const r1 = await locks.acquireFileLock(file, 'read');
    const r2 = await locks.acquireFileLock(`${dir}/./data.txt`, 'read', { timeoutMs: 100 });
    await expect(locks.acquireFileLock(join(dir, 'alias.txt'), 'write', { timeoutMs: 50 })).rejects.toBeInstanceOf(ConflictError);
    await r1.release();
    await r2.release();
    await r2.release(); // idempotent
    {
      await using w = await locks.acquireFileLock(join(dir, 'alias.txt'), 'write', { timeoutMs: 100 });
      expect(w.path).toBe(file);
      await expect(locks.acquireFileLock(file, 'read', { timeoutMs: 30 })).rejects.toBeInstanceOf(ConflictError);
    }
    const again = await locks.acquireFileLock(file, 'write', { timeoutMs: 100 });
    await again.release();
  });

  it('bad input is a typed error and leaves nothing locked', async () => {
    locks = new FileLockManager();
    const file = join(dir, 'f.txt');
    await expect(locks.acquireFileLock(file, 'exclusive' as never)).rejects.toThrow(/mode must be one of read, write/);
    await expect(locks.acquireFileLock('', 'write')).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(locks.acquireFileLock(dir, 'write')).rejects.toThrow(/is a directory/);
    await expect(locks.acquireFileLock(join(dir, 'missing', 'f.txt'), 'write')).rejects.toThrow(/directory does not exist/);
    const lock = await locks.acquireFileLock(file, 'write', { timeoutMs: 100 });
    await lock.release();
  });
});

describe('scenario 6: directory isolation', () => {
  it('allocates separate directories, keeps same-named files apart, merges both', async () => {
    const isolation = new DirectoryIsolation({ root: dir });
    const dir1 = isolation.allocateStreamDirectory('stream1');
    const dir2 = isolation.allocateStreamDirectory('stream2');
    expect(dir1).not.toBe(dir2);
    expect(existsSync(dir1) && existsSync(dir2)).toBe(true);
    await writeFile(join(dir1, 'output.txt'), 'Stream 1 output');
    await writeFile(join(dir2, 'output.txt'), 'Stream 2 output');
    expect(await readFile(join(dir1, 'output.txt'), 'utf8')).toBe('Stream 1 output');
    expect(await readFile(join(dir2, 'output.txt'), 'utf8')).toBe('Stream 2 output');
    const merged = await isolation.mergeStreamOutputs();
    expect(merged).toHaveLength(2);
    expect(merged.map((m) => m.conflicts)).toEqual([['output.txt'], ['output.txt']]);
  });

  it('merges identical files once and copies distinct ones', async () => {
    const isolation = new DirectoryIsolation({ root: join(dir, 'streams') });
    const a = isolation.allocateStreamDirectory('a');
    const b = isolation.allocateStreamDirectory('b');
    await writeFile(join(a, 'same.txt'), 'shared');
    await writeFile(join(b, 'same.txt'), 'shared');
    await mkdir(join(b, 'nested'));
    await writeFile(join(b, 'nested', 'only-b.txt'), 'b');
    const into = join(dir, 'merged');
    const merged = await isolation.mergeStreamOutputs({ into });
    expect(merged.flatMap((m) => m.conflicts)).toEqual([]);
    expect((await readdir(into, { recursive: true })).sort()).toEqual(['nested', 'nested/only-b.txt', 'same.txt']);
  });

  it('handles a conflict under each policy; error copies nothing', async () => {
    const isolation = new DirectoryIsolation({ root: join(dir, 'streams') });
    const a = isolation.allocateStreamDirectory('a');
    const b = isolation.allocateStreamDirectory('b');
    await writeFile(join(a, 'out.txt'), 'A');
    await writeFile(join(b, 'out.txt'), 'B');
    await writeFile(join(a, 'fine.txt'), 'ok');
    const refused = join(dir, 'refused');
    const error = await isolation.mergeStreamOutputs({ into: refused }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MergeConflictError);
    expect((error as MergeConflictError).conflicts).toEqual([{ path: 'out.txt', streams: ['a', 'b'] }]);
    expect(existsSync(refused)).toBe(false);
    const renamed = join(dir, 'renamed');
    await isolation.mergeStreamOutputs({ into: renamed, onConflict: 'rename' });
    expect((await readdir(renamed)).sort()).toEqual(['fine.txt', 'out.a.txt', 'out.b.txt']);
    const resolved = join(dir, 'resolved');
    await isolation.mergeStreamOutputs({ into: resolved, onConflict: (_path, versions) => versions.map((v) => v.streamId).join('+') });
    expect(await readFile(join(resolved, 'out.txt'), 'utf8')).toBe('a+b');
  });

  it('gives a restarted attempt a fresh directory and rejects ids that escape the root', () => {
    const isolation = new DirectoryIsolation();
    try {
      const first = isolation.allocateStreamDirectory('s');
      const second = isolation.allocateStreamDirectory('s');
      expect(second).not.toBe(first);
      expect(isolation.directoryOf('s')).toBe(second);
      for (const bad of ['../x', '/etc', 'a/b', '..', '', 'a\\b']) expect(() => isolation.allocateStreamDirectory(bad)).toThrow(InvalidArgumentError);
    } finally {
      isolation.cleanup();
    }
    expect(existsSync(isolation.root)).toBe(false);
  });

  it('hands each stream its own ctx.directory in a run', async () => {
    coordinator = new StreamCoordinator({ maxThreads: 2, isolation: { root: join(dir, 'run') } });
    // A warm-up run allocates no directories: the merge below sees only the real streams.
    await coordinator.warmUp();
    const results = await coordinator.executeParallel([
      { id: 'x', task: streamModule('write-output.mjs'), input: 'X' },
      { id: 'y', task: streamModule('write-output.mjs'), input: 'Y' },
    ]);
    expect(results.map((r) => r.status)).toEqual(['complete', 'complete']);
    const merged = await coordinator.isolation!.mergeStreamOutputs({ into: join(dir, 'out'), onConflict: 'rename' });
    expect(merged.map((m) => m.files)).toEqual([['output.txt', 'x.txt'], ['output.txt', 'y.txt']]);
    expect((await readdir(join(dir, 'out'))).sort()).toEqual(['output.x.txt', 'output.y.txt', 'x.txt', 'y.txt']);
  });
});
