/**
 * What travels between a {@link ClusterCoordinator}, Redis and a `tributary-node`: the job of
 * one stream, the task a node hands one of its worker threads, and the run's Redis keys.
 * Everything here is JSON (BullMQ stores jobs as JSON) or structured-cloneable (threads).
 */
import type { MessagePort } from 'node:worker_threads';
import type { ConvergenceType, StreamErrorInfo, StreamStatus } from '../streams/types.js';

/** The BullMQ job data of one stream of one run. */
export interface StreamJob {
  /** The run this stream belongs to (a UUID). */
  readonly runId: string;
  /** The stream's id (unique within the run). */
  readonly id: string;
  /** Module as the caller named it: an absolute path, a `file:` URL or a package name; absent for `simulate`. */
  readonly task: string | undefined;
  readonly exportName: string | undefined;
  /** JSON input of the stream function. */
  readonly input: unknown;
  readonly durationMs: number;
  /** Streams in the run: the parties of `ctx.barrier`. */
  readonly parties: number;
  /** The coordinator's name: keys of `ctx.state` and `ctx.resources`. */
  readonly scope: string;
  /** Whether the coordinator has a resource pool (`ctx.resources`). */
  readonly resources: boolean;
  /** Versions kept by `ctx.state`. */
  readonly maxVersions: number;
  readonly convergence: ConvergenceType;
  /** Checkpoint interval of the run (ms). */
  readonly intervalMs: number;
  /**
   * Under heartbeat supervision: the node beats for a stream parked in a blocking call at least
   * this often, and sends heartbeat details with its beats. Absent without supervision.
   */
  readonly parkBeatMs?: number;
  /** Whether each attempt gets its own directory under the node's shared root (`ctx.directory`). */
  readonly isolation: boolean;
  /** Default wait of `ctx.fileLocks.acquireFileLock` (ms). */
  readonly fileLockTimeoutMs: number;
}

/** The job progress a node reports for a running stream (BullMQ `updateProgress`), in batches. */
export interface BeatReport {
  /** Progress in [0, 1]. */
  readonly progress: number;
  /** The node's clock when it sent this (informational: the coordinator times beats by its own clock). */
  readonly beatAt: number;
  /** The attempt that beat. */
  readonly attempt: number;
  /** The stream's last heartbeat details, under supervision (for the guardian's request). */
  readonly details?: unknown;
}

/** How one attempt of a stream ended, as a node reports it (the BullMQ job's return value). */
export interface AttemptOutcome {
  readonly status: StreamStatus;
  /** The stream function's return value (JSON). */
  readonly value?: unknown;
  readonly error?: StreamErrorInfo;
  readonly startedAt: number;
  readonly completedAt: number;
  /** Attempts started on any node (BullMQ's attemptsStarted): more than 1 after a node died. */
  readonly attempts: number;
}

/** Redis keys of one run (under the deployment prefix). */
export function runKeys(prefix: string, runId: string): {
  cancel: string;
  checkpoint: string;
  released: string;
  arrivals: (epoch: number) => string;
  resume: string;
  stop: string;
} {
  const base = `${prefix}:run:${runId}`;
  return {
    /** "1" once the run is cancelled. Written by the coordinator. */
    cancel: `${base}:cancel`,
    /** The epoch of the pending aligned checkpoint. Written by the coordinator. */
    checkpoint: `${base}:cp`,
    /** The last epoch released. Written by the coordinator. */
    released: `${base}:cp:released`,
    /** Set of stream ids that reached checkpoint `epoch`. Written by nodes. */
    arrivals: (epoch) => `${base}:cp:${epoch}`,
    /** Hash of stream id to its last heartbeat details (JSON), for a re-run's `ctx.resume`. Written by nodes. */
    resume: `${base}:resume`,
    /** Hash of stream id to `<attempt>:restart|cancel`: the supervisor's request to end that attempt. Written by the coordinator. */
    stop: `${base}:stop`,
  };
}

/** Every key of a run expires this long after its last write, so nothing a run leaves lingers. */
export const RUN_KEY_TTL_S = 24 * 3600;

/**
 * The per-attempt words a node shares with the worker thread running the stream (Int32).
 * | word       | meaning                                         | written by            |
 * |------------|-------------------------------------------------|-----------------------|
 * | CANCEL     | non-zero once the run is cancelled              | node main thread      |
 * | PROGRESS   | progress × PROGRESS_SCALE                        | worker (ctx.progress) |
 * | BEAT       | last heartbeat, ms since the attempt started + 1 | worker (ctx.heartbeat)|
 * | CP_EPOCH   | pending checkpoint epoch seen in Redis            | node main thread      |
 * | CALL       | number of the last blocking call answered         | node main thread      |
 */
export const CANCEL = 0;
export const PROGRESS = 1;
export const BEAT = 2;
export const CP_EPOCH = 3;
export const CALL = 4;
export const WORDS = 5;
/** Progress fractions are stored as integers of this scale. */
export const PROGRESS_SCALE = 1_000_000;

/** The task a node hands a worker thread (structured-cloneable; the port is transferred). */
export interface ClusterTask {
  readonly job: StreamJob;
  /** The vetted module URL (href), absent for `simulate`. */
  readonly href: string | undefined;
  readonly attempt: number;
  readonly resume: unknown;
  /** The attempt's own directory (`ctx.directory`), when the run has isolation on. */
  readonly directory: string | undefined;
  readonly words: SharedArrayBuffer;
  readonly port: MessagePort;
}
