/**
 * Validation at the door: each helper checks one option and throws an
 * {@link InvalidArgumentError} whose message names the option and the rule it broke. Messages
 * describe the bad value with {@link show}, which never throws (a BigInt, a Symbol or a cyclic
 * object would make `JSON.stringify` or a template literal throw a raw TypeError instead).
 */
import { InvalidArgumentError } from './errors.js';

/**
 * Longest delay, in ms, that any duration option may take: Node's timers hold a signed 32-bit
 * delay and silently turn a longer one into 1 ms (about 24.8 days).
 */
export const MAX_DELAY_MS = 2 ** 31 - 1;

/** A short, never-throwing description of `value` for an error message. */
export function show(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}...` : value);
    case 'bigint':
      return `${value.toString()}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'object':
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of ${value.length}`;
      return 'an object';
    default:
      return String(value);
  }
}

/** `value` must be a duration in ms: finite, >= 0 and at most {@link MAX_DELAY_MS}. */
export function nonNegativeFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative finite number, got ${show(value)}`);
  }
  return maxDelay(name, value);
}

/** `value` must be a duration in ms: finite, > 0 and at most {@link MAX_DELAY_MS}. */
export function positiveFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive finite number, got ${show(value)}`);
  }
  return maxDelay(name, value);
}

function maxDelay(name: string, value: number): number {
  if (value > MAX_DELAY_MS) {
    throw new InvalidArgumentError(
      `${name} is ${value} ms; at most ${MAX_DELAY_MS} ms (~24.8 days, the longest delay Node's timers hold) is allowed: omit it to wait without a limit, or pass less`,
    );
  }
  return value;
}

/** `value` must be an integer in [min, max]. */
export function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${show(value)}`);
  }
  return value;
}

/** `value` must be a positive integer no larger than `max`. */
export function positiveInteger(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  return integerIn(name, value, 1, max);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** `value` must be a 64-bit signed integer: a BigInt in range, or a safe integer number. */
export function int64(name: string, value: unknown): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'bigint' && value >= INT64_MIN && value <= INT64_MAX) return value;
  throw new InvalidArgumentError(`${name} must be a BigInt from -(2n ** 63n) to 2n ** 63n - 1n or a safe integer, got ${show(value)}`);
}

/** `value` must be a non-empty string. */
export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${name} must be a non-empty string, got ${show(value)}`);
  }
  return value;
}

/** `value` must be a usable file-system path: a non-empty string without NUL characters. */
export function filePath(name: string, value: unknown): string {
  nonEmptyString(name, value);
  if ((value as string).includes('\0')) {
    throw new InvalidArgumentError(`${name} contains a NUL character, which no file-system path can hold: ${show(value)}`);
  }
  return value as string;
}

/** `value` must be one of `allowed` (a closed set of names: modes, convergence types, ...). */
export function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}, got ${show(value)}`);
  }
  return value as T;
}

/** `value` must be a function (a callback). */
export function callback<F extends (...args: never[]) => unknown>(name: string, value: F): F {
  if (typeof value !== 'function') throw new InvalidArgumentError(`${name} must be a function, got ${show(value)}`);
  return value;
}

/** `value` must be an `AbortSignal` or undefined. */
export function optionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new InvalidArgumentError(`${name} must be an AbortSignal, got ${show(value)}`);
  }
  return value;
}

/**
 * `value` must be a plain object or undefined (an options bag). A bare number, string, array
 * or function where options go is refused: `lockAsync(300)` must not mean "wait forever".
 */
export function optionsObject<T extends object>(name: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${name} must be an options object or undefined, got ${show(value)}${typeof value === 'number' ? ' (a bare number: did you mean { timeoutMs: ... }?)' : ''}`);
  }
  return value;
}
