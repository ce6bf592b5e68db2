/** Validation of the options a coordinator hands its threads (names as Piscina's and Node's). */
import type { ResourceLimits } from 'node:worker_threads';
import { InvalidArgumentError } from '../shared/errors.js';
import { optionsObject, positiveFinite } from '../shared/validate.js';

const LIMITS = ['maxOldGenerationSizeMb', 'maxYoungGenerationSizeMb', 'codeRangeSizeMb', 'stackSizeMb'] as const;

/** Checks `options.resourceLimits`: Node's per-thread heap and stack limits, each a positive number of MB. */
export function resourceLimits(value: unknown): ResourceLimits | undefined {
  if (value === undefined) return undefined;
  const o = optionsObject('options.resourceLimits', value as ResourceLimits);
  for (const key of Object.keys(o)) {
    if (!(LIMITS as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(`options.resourceLimits.${key} is not a limit; use ${LIMITS.join(', ')}`);
    }
    positiveFinite(`options.resourceLimits.${key}`, (o as Record<string, unknown>)[key]);
  }
  return o;
}

/** Checks `options.env`: the environment every stream thread sees, strings only. */
export function threadEnv(value: unknown): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  const o = optionsObject('options.env', value as Record<string, string>);
  for (const [key, v] of Object.entries(o)) {
    if (typeof v !== 'string') throw new InvalidArgumentError(`options.env.${key} must be a string`);
  }
  return o as Record<string, string>;
}

/** Checks `options.execArgv`: Node flags for every stream thread. */
export function execArgv(value: unknown): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw new InvalidArgumentError('options.execArgv must be an array of strings (Node flags such as --max-old-space-size=256)');
  }
  return value as string[];
}
