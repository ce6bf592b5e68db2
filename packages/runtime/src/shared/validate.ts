/**
 * Validation at the door: each helper checks one option and throws an
 * {@link InvalidArgumentError} whose message names the option and the rule it broke.
 */
import { InvalidArgumentError } from './errors.js';

/** `value` must be a finite number >= 0 (a timeout, an interval). */
export function nonNegativeFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidArgumentError(`${name} must be a non-negative finite number, got ${String(value)}`);
  }
  return value;
}

/** `value` must be a finite number > 0. */
export function positiveFinite(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive finite number, got ${String(value)}`);
  }
  return value;
}

/** `value` must be an integer in [min, max]. */
export function integerIn(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** `value` must be a positive integer no larger than `max`. */
export function positiveInteger(name: string, value: unknown, max = Number.MAX_SAFE_INTEGER): number {
  return integerIn(name, value, 1, max);
}

/** `value` must be a non-empty string. */
export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(`${name} must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** `value` must be a usable file-system path: a non-empty string without NUL characters. */
export function filePath(name: string, value: unknown): string {
  nonEmptyString(name, value);
  if ((value as string).includes('\0')) {
    throw new InvalidArgumentError(`${name} contains a NUL character, which no file-system path can hold: ${JSON.stringify(value)}`);
  }
  return value as string;
}

/** `value` must be an `AbortSignal` or undefined. */
export function optionalSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value !== undefined && !(value instanceof AbortSignal)) {
    throw new InvalidArgumentError(`${name} must be an AbortSignal`);
  }
  return value;
}

/** `value` must be a plain object or undefined (an options bag). */
export function optionsObject<T extends object>(name: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`${name} must be an object`);
  }
  return value;
}
