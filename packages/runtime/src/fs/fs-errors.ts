/**
 * File-system failures as typed errors: every `fs/` public method runs its file-system calls
 * through {@link onDisk} / {@link onDiskAsync}, so an errno failure reaches the caller as a
 * {@link FileSystemError} carrying the code and the path, with a message that says what to fix.
 */
import { FileSystemError, TributaryError } from '../shared/errors.js';

// What to do about the common codes; others get the system's own message.
const HINTS: Readonly<Record<string, string>> = {
  ENOENT: 'it (or a directory above it) does not exist',
  ENOTDIR: 'a component of the path is a file, not a directory',
  EISDIR: 'it is a directory where a file was expected',
  EEXIST: 'something already exists there',
  EACCES: 'permission denied: grant access or choose another path',
  EPERM: 'operation not permitted: grant access or choose another path',
  ENAMETOOLONG: 'the path or one of its names is too long for the file system; use a shorter one',
  ELOOP: 'too many symbolic links (a loop?) while resolving the path',
  ENOSPC: 'the disk is full; free space',
  EROFS: 'the file system is read-only; choose a writable path',
  EMFILE: 'too many open files in this process; close some or raise the limit',
};

/** `error` as a {@link FileSystemError} if it is an errno failure; anything else unchanged. */
export function fileSystemError(error: unknown, doing: string, path: string): unknown {
  if (error instanceof TributaryError) return error;
  const e = error as NodeJS.ErrnoException | null;
  if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.syscall !== 'string') return error;
  const at = typeof e.path === 'string' ? e.path : path;
  const hint = HINTS[e.code] ?? e.message;
  return new FileSystemError(e.code, at, `cannot ${doing} ${at}: ${e.code}, ${hint}`, { cause: error });
}

/** Runs a synchronous file-system step, turning errno failures into {@link FileSystemError}. */
export function onDisk<T>(doing: string, path: string, step: () => T): T {
  try {
    return step();
  } catch (error) {
    throw fileSystemError(error, doing, path);
  }
}

/** The asynchronous twin of {@link onDisk}. */
export async function onDiskAsync<T>(doing: string, path: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    throw fileSystemError(error, doing, path);
  }
}
