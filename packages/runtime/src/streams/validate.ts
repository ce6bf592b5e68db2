/** Validation of what callers hand the coordinator; every problem is an InvalidArgumentError naming it. */
import type { TransferListItem } from 'node:worker_threads';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../shared/errors.js';
import { nonNegativeFinite, oneOf, optionalSignal, positiveFinite } from '../shared/validate.js';
import { CONVERGENCE_TYPES, type ConvergenceType } from './convergence/index.js';
import { movedInput } from './transfer.js';
import type { StreamSpec } from './types.js';

/** A checked convergence type. */
export function convergenceType(name: string, value: unknown): ConvergenceType {
  return oneOf(name, value, CONVERGENCE_TYPES);
}

/** A stream spec after checking, with its module as an absolute URL. */
export interface CheckedSpec {
  readonly id: string;
  /** The stream module's URL (absent: the built-in simulate stream). */
  readonly task: string | undefined;
  readonly exportName: string | undefined;
  readonly input: unknown;
  readonly durationMs: number;
  /** Running-time budget of one attempt, if any. */
  readonly timeoutMs: number | undefined;
  /** What the first attempt moves to its worker (empty: everything is copied or shared). */
  readonly transfer: readonly TransferListItem[];
}

/** Checks a run's stream specs: a non-empty array of unique, well-formed specs. */
export function checkSpecs(streams: unknown): CheckedSpec[] {
  if (!Array.isArray(streams) || streams.length === 0) {
    throw new InvalidArgumentError('streams must be a non-empty array of { id, task?, input?, durationMs? }');
  }
  const seen = new Set<string>();
  return streams.map((raw: unknown, i) => {
    if (typeof raw !== 'object' || raw === null) throw new InvalidArgumentError(`streams[${i}] must be an object`);
    const spec = raw as StreamSpec;
    if (typeof spec.id !== 'string' || spec.id.trim() === '') {
      throw new InvalidArgumentError(`streams[${i}].id must be a non-empty string`);
    }
    if (seen.has(spec.id)) throw new InvalidArgumentError(`streams[${i}].id "${spec.id}" is a duplicate; stream ids must be unique`);
    seen.add(spec.id);
    const durationMs = spec.durationMs === undefined ? 0 : nonNegativeFinite(`streams[${i}].durationMs`, spec.durationMs);
    if (spec.export !== undefined && (typeof spec.export !== 'string' || spec.export === '')) {
      throw new InvalidArgumentError(`streams[${i}].export must be a non-empty string`);
    }
    const timeoutMs = spec.timeoutMs === undefined ? undefined : positiveFinite(`streams[${i}].timeoutMs`, spec.timeoutMs);
    const { input, transfer } = movedInput(`streams[${i}]`, spec.input, spec.transfer);
    return { id: spec.id, task: moduleHref(i, spec.task), exportName: spec.export, input, durationMs, timeoutMs, transfer };
  });
}

function moduleHref(i: number, task: unknown): string | undefined {
  if (task === undefined) return undefined;
  if (task instanceof URL) return task.href;
  if (typeof task !== 'string' || task === '') {
    throw new InvalidArgumentError(`streams[${i}].task must be a module path or URL`);
  }
  if (/^(file|data):/.test(task)) return task;
  return pathToFileURL(isAbsolute(task) ? task : resolve(task)).href;
}

/** Checks a checkpoint interval. */
export function intervalMs(value: unknown): number {
  return positiveFinite('intervalMs', value);
}

/** Checks an optional run signal. */
export function runSignal(value: unknown): AbortSignal | undefined {
  return optionalSignal('options.signal', value);
}
