// Issue 12 item 8 (fs part): file-system failures reach the caller as a typed FileSystemError
// carrying the errno code and the path; a NUL in a path is an InvalidArgumentError.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DirectoryIsolation, FileLockManager, FileSystemError, InvalidArgumentError } from '@tributary/runtime';

let dir: string;
let aFile: string;
let locks: FileLockManager | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tributary-fs-errors-'));
  aFile = join(dir, 'plain.txt');
  await writeFile(aFile, 'x');
});
afterEach(async () => {
  await locks?.close();
  locks = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The rejection of `p` (or the throw of `f`), which must be a FileSystemError with `errno`. */
async function fsFailure(p: Promise<unknown> | (() => unknown), errno: string): Promise<FileSystemError> {
  const error = await (typeof p === 'function' ? Promise.resolve().then(p) : p).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FileSystemError);
  const e = error as FileSystemError;
  expect(e).toMatchObject({ code: 'ERR_TRIBUTARY_FILE_SYSTEM', errno });
  expect(e.message).toContain(errno);
  return e;
}

const LONG_NAME = 'n'.repeat(300);

describe('FileLockManager: fs failures are typed', () => {
  it('ENOTDIR, ENAMETOOLONG and a NUL byte', async () => {
    locks = new FileLockManager({ crossProcess: false });
    const through = await fsFailure(locks.acquireFileLock(join(aFile, 'inside.txt'), 'write'), 'ENOTDIR');
    expect(through.path).toContain(aFile);
    const long = await fsFailure(locks.acquireFileLock(join(dir, LONG_NAME), 'write'), 'ENAMETOOLONG');
    expect(long.path).toContain(LONG_NAME);
    await expect(locks.acquireFileLock(join(dir, 'a\0b'), 'write')).rejects.toBeInstanceOf(InvalidArgumentError);
    // Nothing was left locked by the failures.
    const lock = await locks.acquireFileLock(aFile, 'write', { timeoutMs: 1_000 });
    await lock.release();
  });

  it('EACCES from the lock file (a directory nobody may write: sysfs)', async () => {
    locks = new FileLockManager({ timeoutMs: 1_000 });
    const e = await fsFailure(locks.acquireFileLock('/sys/tributary-test.txt', 'write'), 'EACCES');
    expect(e.path).toContain('/sys/tributary-test.txt');
  });
});

describe('DirectoryIsolation: fs failures are typed', () => {
  it('a root through a file, a stream id too long for a name, a NUL in the root', async () => {
    await fsFailure(() => new DirectoryIsolation({ root: join(aFile, 'root') }), 'ENOTDIR');
    const isolation = new DirectoryIsolation({ root: join(dir, 'streams') });
    await fsFailure(() => isolation.allocateStreamDirectory(LONG_NAME), 'ENAMETOOLONG');
    expect(() => new DirectoryIsolation({ root: join(dir, 'r\0') })).toThrow(InvalidArgumentError);
  });

  it('merging into a file, or a file where another stream made a directory', async () => {
    const isolation = new DirectoryIsolation({ root: join(dir, 'streams') });
    const a = isolation.allocateStreamDirectory('a');
    const b = isolation.allocateStreamDirectory('b');
    await writeFile(join(a, 'x'), 'a file');
    await mkdir(join(b, 'x'));
    await writeFile(join(b, 'x', 'y'), 'under a directory');
    // mkdir of merged/x finds a's file there.
    const clash = await fsFailure(isolation.mergeStreamOutputs({ into: join(dir, 'merged') }), 'EEXIST');
    expect(clash.path).toContain(join(dir, 'merged', 'x'));
    await fsFailure(isolation.mergeStreamOutputs({ into: join(aFile, 'merged') }), 'ENOTDIR');
    await expect(isolation.mergeStreamOutputs({ into: 'm\0' })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
