/**
 * Typed errors of Tributary. Every error has a stable `code` so callers can branch without
 * parsing messages, and every message says what to do about it.
 *
 * @module
 */

/** Codes carried by {@link TributaryError.code}. */
export type TributaryErrorCode =
  | 'ERR_TRIBUTARY_TIMEOUT'
  | 'ERR_TRIBUTARY_ABORTED'
  | 'ERR_TRIBUTARY_BROKEN_BARRIER'
  | 'ERR_TRIBUTARY_INVALID_ARGUMENT'
  | 'ERR_TRIBUTARY_INVALID_STATE'
  | 'ERR_TRIBUTARY_NOT_OWNER'
  | 'ERR_TRIBUTARY_CONFLICT'
  | 'ERR_TRIBUTARY_RESOURCE'
  | 'ERR_TRIBUTARY_CAPACITY'
  | 'ERR_TRIBUTARY_MERGE_CONFLICT'
  | 'ERR_TRIBUTARY_STREAM'
  | 'ERR_TRIBUTARY_DEADLOCK'
  | 'ERR_TRIBUTARY_CALLBACK'
  | 'ERR_TRIBUTARY_FILE_SYSTEM';

/** Base class of every error Tributary throws on purpose. */
export class TributaryError extends Error {
  /** A stable, machine-readable code. */
  readonly code: TributaryErrorCode;

  constructor(code: TributaryErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A bounded wait ran out of time before the condition it waited for came true. */
export class TimeoutError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_TIMEOUT', message, options);
  }
}

/** A wait was cancelled through its `AbortSignal`. */
export class AbortedError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_ABORTED', message, options);
  }
}

/**
 * A barrier this thread waited at was broken: another party timed out, was aborted, failed,
 * or `break()` was called. Every party waiting in that generation gets this error (all-or-none).
 */
export class BrokenBarrierError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_BROKEN_BARRIER', message, options);
  }
}

/** An argument or option was out of its documented range. The message names it and the rule. */
export class InvalidArgumentError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_INVALID_ARGUMENT', message, options);
  }
}

/** The call is not valid in the object's current state (for example a lock taken twice by its owner). */
export class InvalidStateError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_INVALID_STATE', message, options);
  }
}

/** A thread tried to release a lock it does not hold. */
export class NotOwnerError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_NOT_OWNER', message, options);
  }
}

/** A file lock could not be had in time because another holder kept it. */
export class ConflictError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_CONFLICT', message, options);
  }
}

/** A resource request cannot be granted (unknown resource, or more than the pool can ever hold). */
export class ResourceError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_RESOURCE', message, options);
  }
}

/** A fixed-size shared-memory region is too small for what was asked of it. */
export class CapacityError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_CAPACITY', message, options);
  }
}

/** One path written with different content by several streams, found while merging their directories. */
export interface MergeConflict {
  /** Path relative to each stream's directory. */
  readonly path: string;
  /** Ids of the streams that wrote different content at that path. */
  readonly streams: readonly string[];
}

/** Merging stream directories found conflicts; nothing was copied. */
export class MergeConflictError extends TributaryError {
  /** Every conflicting path with the streams that wrote it. */
  readonly conflicts: readonly MergeConflict[];

  constructor(conflicts: readonly MergeConflict[]) {
    const list = conflicts.map((c) => `${c.path} (${c.streams.join(', ')})`).join('; ');
    super(
      'ERR_TRIBUTARY_MERGE_CONFLICT',
      `${conflicts.length} path(s) were written with different content by several streams: ${list}. ` +
        `Nothing was copied; pass onConflict: 'rename' or a resolver function to merge anyway.`,
    );
    this.conflicts = conflicts;
  }
}

/** A stream failed in a way the coordinator reports as its own error (load failure, restart budget spent). */
export class StreamError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_STREAM', message, options);
  }
}

/**
 * No stream of a run could make progress: every running stream waited at the run's barrier
 * and the streams it waited for could not get a thread. The message names who waited for
 * what and which option to change (`maxSpareThreads`, or fewer barrier parties).
 */
export class DeadlockError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_DEADLOCK', message, options);
  }
}

/**
 * A convergence callback threw or rejected. The run's other streams were cancelled and the
 * run rejected with this error; `cause` is what the callback threw.
 */
export class CallbackError extends TributaryError {
  constructor(message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_CALLBACK', message, options);
  }
}

/**
 * A file-system call failed (a path through a file, a name too long, no permission, a full
 * disk, ...). Carries the operating system's `errno` code (`'ENOTDIR'`, `'EACCES'`, ...) and the
 * path it failed on; the original error is the `cause`.
 */
export class FileSystemError extends TributaryError {
  /** The system error code, e.g. `'ENAMETOOLONG'`. */
  readonly errno: string;
  /** The path the failing call was given. */
  readonly path: string;

  constructor(errno: string, path: string, message: string, options?: ErrorOptions) {
    super('ERR_TRIBUTARY_FILE_SYSTEM', message, options);
    this.errno = errno;
    this.path = path;
  }
}
