/**
 * Rebuilds a typed Tributary error from its cross-thread form ({@link StreamErrorInfo}-like:
 * name, message, code, own data properties), as the same class with the same `code`, so a
 * caller on the other side of a thread or a Redis hop can `catch (e) { if (e instanceof
 * DeadlockError) ... }` as in one process.
 *
 * The name-to-class map is derived from every class `errors.ts` exports that extends
 * {@link TributaryError}: a new error class there round-trips with no list to keep in step.
 */
import * as errors from './errors.js';
import { TributaryError, type TributaryErrorCode } from './errors.js';

/** What is needed to rebuild an error (the cross-thread form of `streams/task.ts`). */
export interface ErrorShape {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly properties?: Readonly<Record<string, unknown>>;
}

type ErrorClass = abstract new (...args: never[]) => TributaryError;

/** Every TributaryError subclass `errors.ts` exports, by class name. */
export const ERROR_CLASSES: ReadonlyMap<string, ErrorClass> = new Map(
  (Object.values(errors) as unknown[])
    .filter((value): value is ErrorClass => typeof value === 'function' && value.prototype instanceof TributaryError)
    .map((Class) => [Class.name, Class]),
);

/**
 * The typed error `info` describes, or `undefined` when its name is not a Tributary error
 * class (or its code is not that class's: a user error that happens to share a name).
 */
export function reviveError(info: ErrorShape): TributaryError | undefined {
  const Class = ERROR_CLASSES.get(info.name);
  if (Class === undefined || typeof info.code !== 'string' || !info.code.startsWith('ERR_TRIBUTARY_')) return undefined;
  // The base constructor with new.target = Class: the instance is a real Error of Class's
  // prototype, whatever Class's own constructor takes (FileSystemError's errno and path,
  // MergeConflictError's conflicts arrive as own properties and are put back below).
  const error = Reflect.construct(TributaryError, [info.code as TributaryErrorCode, info.message], Class) as TributaryError;
  if (info.properties !== undefined) Object.assign(error, info.properties);
  return error;
}
