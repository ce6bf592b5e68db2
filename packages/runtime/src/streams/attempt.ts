/**
 * Building and starting one attempt of one stream: the task message a worker receives and the
 * pool call (or, for a plain single stream, the message to a resident lane: `residents.ts`).
 * Whatever goes wrong before the worker has the task (a directory that cannot be made, an
 * input that cannot be cloned) fails that attempt with a typed error; it never escapes into
 * the run.
 */
import { InvalidArgumentError, StreamError } from '../shared/errors.js';
import { THREAD, type RunMemory } from './layout.js';
import type { RunRuntime } from './run-settings.js';
import { errorInfo, unsendableError, type StreamOutcome, type StreamTask } from './task.js';
import type { CheckedSpec } from './validate.js';

/** What every attempt of a run shares. */
export interface AttemptEnv {
  /** The coordinator's pool (`residents`), tracer, directories and recycling. */
  readonly runtime: Pick<RunRuntime, 'residents' | 'tracer' | 'directoryFor' | 'retireAfter'>;
  /** Attempts that cannot be stopped from outside and move nothing ride a resident lane (`residents.ts`). */
  readonly resident: boolean;
  readonly memory: RunMemory;
  /** Under heartbeat supervision: beat at least this often while parked. */
  readonly parkBeatMs: number | undefined;
  /** Attempt `attempt` of stream `index` was lost: its thread ended (terminated, crashed, retired) and may not have finished it. */
  readonly lost: (index: number, attempt: number) => void;
}

/** One attempt to start. */
export interface AttemptSpec {
  readonly spec: CheckedSpec;
  readonly index: number;
  readonly attempt: number;
  /** Last heartbeat details of the previous attempt. */
  readonly resume: unknown;
  /** Terminates the attempt's thread when aborted; omitted, the attempt cannot be stopped from outside. */
  readonly signal: AbortSignal | undefined;
}

/** Runs the attempt on the pool (its slot was reset when it was queued); resolves with its outcome, never rejects. */
export function startAttempt(env: AttemptEnv, a: AttemptSpec): Promise<StreamOutcome> {
  const { spec } = a;
  const moving = spec.transfer.length > 0;
  if (moving && a.attempt > 1) {
    const reason = new StreamError(
      `stream ${spec.id} moved its input to its first attempt (streams[].transfer), so a restart has nothing to send; copy the input instead of moving it to make the stream restartable`,
    );
    return Promise.resolve({ ok: false, error: errorInfo(reason) });
  }
  let task: StreamTask;
  try {
    task = taskMessage(env, a);
  } catch (error) {
    const reason = new StreamError(`stream ${spec.id} could not start: ${(error as Error).message}`, { cause: error });
    return Promise.resolve({ ok: false, error: errorInfo(reason) });
  }
  const plain = !moving && a.signal === undefined;
  const sent =
    env.resident && plain
      ? env.runtime.residents.run(task, () => env.memory.get(a.index, THREAD) === 0)
      : env.runtime.residents.runTask<StreamOutcome>(task, plain ? undefined : { transferList: moving ? [...spec.transfer] : undefined, signal: a.signal });
  return sent.then(
    (outcome: StreamOutcome) => outcome,
    (error: unknown) => {
      // A thread that ended (terminated, crashed, retired) may not have finished the attempt;
      // an input that could not be sent or an outcome that could not come back never left it half done.
      if (error instanceof Error && error.name !== 'DataCloneError') env.lost(a.index, a.attempt);
      return { ok: false, error: errorInfo(startError(spec, error)) };
    },
  );
}

/** The attempt's task message, with only the optional fields that are set (see {@link StreamTask}). */
function taskMessage(env: AttemptEnv, a: AttemptSpec): StreamTask {
  const { spec } = a;
  const task: { -readonly [K in keyof StreamTask]: StreamTask[K] } = {
    run: env.memory.ref,
    index: a.index,
    id: spec.id,
    attempt: a.attempt,
    input: spec.input,
  };
  if (spec.task === undefined) task.durationMs = spec.durationMs;
  else task.task = spec.task;
  if (spec.exportName !== undefined) task.exportName = spec.exportName;
  if (a.resume !== undefined) task.resume = a.resume;
  const { directoryFor, tracer, retireAfter } = env.runtime;
  const directory = directoryFor(spec.id);
  if (directory !== undefined) task.directory = directory;
  if (tracer !== undefined) task.trace = true;
  if (env.parkBeatMs !== undefined) task.parkBeatMs = env.parkBeatMs;
  if (retireAfter !== undefined) task.retireAfter = retireAfter;
  return task;
}

/** A clone failure is the caller's input or the stream's result, not a stream error: say which. */
function startError(spec: CheckedSpec, error: unknown): unknown {
  // The worker entry never throws: a rejection that is no Error is Piscina failing to post
  // the stream's outcome back (what the stream returned or threw cannot be cloned).
  if (!(error instanceof Error)) {
    return unsendableError(spec.id);
  }
  if (error.name !== 'DataCloneError') return error;
  return new InvalidArgumentError(
    `stream ${spec.id}'s input cannot be sent to a worker thread (${(error as Error).message}); pass structured-cloneable data`,
    { cause: error },
  );
}
