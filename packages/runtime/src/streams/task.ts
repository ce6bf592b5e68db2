/** The message a stream task carries into a worker, and the outcome it carries back. */
import type { FileLockManagerHandle } from '../fs/file-lock-manager.js';
import type { ImmutableStateHandle } from '../protocols/immutable-state.js';
import type { ResourceNegotiationHandle } from '../protocols/resource-negotiation.js';
import type { TraceEvent } from '../shared/trace.js';
import type { RunHandles } from './layout.js';

/** Handles of the coordinator-wide services a stream's context rebuilds. */
export interface SharedHandles {
  readonly state: ImmutableStateHandle;
  readonly resources: ResourceNegotiationHandle | undefined;
  readonly fileLocks: FileLockManagerHandle;
}
import type { StreamErrorInfo } from './types.js';

/** One attempt of one stream, as sent to a Piscina worker. Structured-cloneable. */
export interface StreamTask {
  readonly run: RunHandles;
  readonly index: number;
  readonly id: string;
  readonly attempt: number;
  /** Module URL (href); absent for the built-in simulate stream. */
  readonly task: string | undefined;
  readonly exportName: string | undefined;
  readonly input: unknown;
  readonly durationMs: number;
  readonly resume: unknown;
  /** Id of the run, to address the lazily opened services channel. */
  readonly runId: number;
  readonly shared: SharedHandles;
  /** The attempt's isolated directory, if isolation is on. */
  readonly directory: string | undefined;
  /** Record a trace of this attempt and return it with the outcome. */
  readonly trace: boolean;
  /** Under heartbeat supervision: beat at least this often while parked in a wait. */
  readonly parkBeatMs: number | undefined;
}

/** How an attempt ended, as the worker reports it. */
export type StreamOutcome = (
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: StreamErrorInfo }
) & {
  /** Events the worker recorded, when the task asked for a trace. */
  readonly trace?: readonly TraceEvent[];
};

/** The cross-thread form of a thrown value. */
export function errorInfo(error: unknown): StreamErrorInfo {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: error.message,
      ...(error.stack === undefined ? {} : { stack: error.stack }),
      ...(typeof code === 'string' ? { code } : {}),
    };
  }
  return { name: 'Error', message: `stream threw a non-Error value: ${String(error)}` };
}
