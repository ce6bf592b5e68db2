/**
 * Stream specs of a cluster run: checked like the in-process ones, with modules named so that
 * every node can resolve them itself: an absolute path (relative paths are made absolute here,
 * so the same path must exist on every host), a `file:` URL, or a package name. Other URLs
 * pass through untouched: nodes refuse them, and say so in the stream's result.
 */
import { isAbsolute, resolve } from 'node:path';
import { InvalidArgumentError } from '../shared/errors.js';
import { checkSpecs } from '../streams/validate.js';
import type { StreamSpec } from '../streams/types.js';

/** A checked cluster stream spec. */
export interface ClusterSpec {
  readonly id: string;
  readonly task: string | undefined;
  readonly exportName: string | undefined;
  readonly input: unknown;
  readonly durationMs: number;
}

/** Checks `streams` (InvalidArgumentError naming the problem) and names their modules for the nodes. */
export function clusterSpecs(streams: readonly StreamSpec[]): ClusterSpec[] {
  return checkSpecs(streams).map((checked, i) => {
    const task = streams[i]!.task;
    const input = checked.input;
    if (input !== undefined && JSON.stringify(input) === undefined) {
      throw new InvalidArgumentError(`streams[${i}].input must be a JSON value in a cluster run (it travels through Redis)`);
    }
    return { id: checked.id, task: moduleName(task), exportName: checked.exportName, input, durationMs: checked.durationMs };
  });
}

function moduleName(task: string | URL | undefined): string | undefined {
  if (task === undefined) return undefined;
  if (task instanceof URL) return task.href;
  if (/^[a-z][a-z0-9+.-]*:/i.test(task) || isAbsolute(task)) return task;
  if (task.startsWith('.')) return resolve(task);
  return task;
}
