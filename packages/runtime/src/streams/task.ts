/** The message a stream task carries into a worker, and the outcome it carries back. */
import type { FileLockManagerHandle } from '../fs/file-lock-manager.js';
import type { ImmutableStateHandle } from '../protocols/immutable-state.js';
import type { ResourceNegotiationHandle } from '../protocols/resource-negotiation.js';
import type { TraceEvent } from '../shared/trace.js';
import type { RunRef } from './layout.js';

/**
 * Handles of the coordinator-wide services a stream's context rebuilds. They never change for
 * a coordinator, so they reach each thread once, as its `workerData`, not with every task
 * (each SharedArrayBuffer in a message costs its structured clone a few microseconds).
 */
export interface SharedHandles {
  readonly state: ImmutableStateHandle;
  readonly resources: ResourceNegotiationHandle | undefined;
  readonly fileLocks: FileLockManagerHandle;
  /** The coordinator's run slab: small runs' memory, addressed by offsets (`memory-pool.ts`). */
  readonly runSlab: SharedArrayBuffer;
}
import { inspect } from 'node:util';
import type { MessagePort } from 'node:worker_threads';
import { AbortedError, StreamError } from '../shared/errors.js';
import type { StreamErrorInfo } from './types.js';

/** What every thread of a coordinator's pool starts with. */
export interface StreamWorkerData {
  readonly shared: SharedHandles;
}

/**
 * One attempt of one stream, as sent to a Piscina worker. Structured-cloneable. The optional
 * fields are left out when unset, not sent as `undefined`: each key costs the structured clone
 * on both threads, and an empty stream's round trip is mostly that clone and Piscina's own.
 */
export interface StreamTask {
  /** The run's memory, which also says which run it is (`RunInfo`). */
  readonly run: RunRef;
  readonly index: number;
  readonly id: string;
  readonly attempt: number;
  readonly input: unknown;
  /** The stream module's URL; absent for the built-in simulate stream. */
  readonly task?: string;
  readonly exportName?: string;
  /** How long the built-in simulate stream runs (when `task` is absent). */
  readonly durationMs?: number;
  readonly resume?: unknown;
  /** The attempt's isolated directory, if isolation is on. */
  readonly directory?: string;
  /** Record a trace of this attempt and return it with the outcome. */
  readonly trace?: true;
  /** Under heartbeat supervision: beat at least this often while parked in a wait. */
  readonly parkBeatMs?: number;
  /** End the thread once it has run this many attempts (`maxStreamsPerThread`). */
  readonly retireAfter?: number;
}

/** One stream of a laned run, as its lanes receive it: a {@link StreamTask} less what every stream of the run shares. */
export interface LaneSpec {
  readonly id: string;
  /** Index into {@link LaneTask.modules}. */
  readonly module: number;
  readonly exportName: string | undefined;
  readonly input: unknown;
  readonly durationMs: number;
}

/** A lane of a run, as sent to a Piscina worker: it runs the run's streams it claims, one after another (`lanes.ts`). */
export interface LaneTask {
  readonly lane: number;
  /** Where the lane posts each {@link LaneMessage}. */
  readonly port: MessagePort;
  readonly run: RunRef;
  /** The stream modules the specs name, each once (undefined: the built-in simulate stream). */
  readonly modules: readonly (string | undefined)[];
  readonly specs: readonly LaneSpec[];
}

/** A stream's outcome, as its lane posts it; `index` -1 (and no outcome) ends the lane's messages. */
export type LaneMessage = { readonly index: number; readonly outcome: StreamOutcome } | { readonly index: -1 };

/** Whether a task sent to a worker is a lane. */
export function isLaneTask(task: StreamTask | LaneTask | ResidentTask): task is LaneTask {
  return 'specs' in task;
}

/**
 * A resident lane, as sent to a Piscina worker: it serves the {@link StreamTask}s posted on
 * `resident` one at a time, answering each with a {@link LaneMessage}, until `null` tells it to
 * leave (`residents.ts`).
 */
export interface ResidentTask {
  readonly resident: MessagePort;
}

/** Whether a task sent to a worker is a resident lane. */
export function isResidentTask(task: StreamTask | LaneTask | ResidentTask): task is ResidentTask {
  return 'resident' in task;
}

/** How an attempt ended, as the worker reports it. */
export type StreamOutcome = (
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: StreamErrorInfo }
) & {
  /** Events the worker recorded, when the task asked for a trace. */
  readonly trace?: readonly TraceEvent[];
};

/** The cross-thread form of a thrown value: name, message, stack, code and its own data properties. */
export function errorInfo(error: unknown): StreamErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    const properties = ownData(error);
    return {
      name: error.name,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(typeof code === 'string' ? { code } : {}),
      ...(properties === undefined ? {} : { properties }),
    };
  }
  return { name: 'Error', message: `stream threw a non-Error value: ${inspect(error, { depth: 2, breakLength: Infinity })}` };
}

/** An abort reason as a result's error: the caller's own Error, or `fallback` saying what it was. */
export function reasonInfo(reason: unknown, fallback: string): StreamErrorInfo {
  if (reason instanceof Error) return errorInfo(reason);
  return errorInfo(new AbortedError(reason === undefined ? fallback : `${fallback}: ${String(reason)}`, { cause: reason }));
}

const STANDARD = new Set(['name', 'message', 'stack', 'code', 'cause']);

/** An error's own enumerable properties that survive structured cloning (piscina#1143 drops them). */
function ownData(error: Error): Record<string, unknown> | undefined {
  let found: Record<string, unknown> | undefined;
  for (const key of Object.keys(error)) {
    if (STANDARD.has(key)) continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    try {
      structuredClone(value);
    } catch {
      continue;
    }
    (found ??= {})[key] = value;
  }
  return found;
}

/** Why a stream's outcome could not travel back from its worker. */
export function unsendableError(id: string): StreamError {
  return new StreamError(
    `stream ${id} returned (or threw) a value that cannot be sent back from its worker thread; return structured-cloneable data (plain objects, arrays, typed arrays, Maps, ...), not functions, symbols or class instances with methods`,
  );
}

/** A result's error as an Error on this thread, for callers that want one thrown (`coordinator.run`). */
export function rebuildError(info: StreamErrorInfo): Error {
  const error = new Error(info.message);
  Object.assign(error, info.properties, { name: info.name }, info.code === undefined ? {} : { code: info.code });
  if (info.stack !== undefined) error.stack = info.stack;
  return error;
}
