/**
 * The worker-side {@link StreamContext}: heartbeat and progress are `Atomics` stores into the
 * stream's slot; checkpoint arrives at a pending aligned checkpoint and parks until released.
 *
 * A context goes inert when its attempt ends (`end()`): a timer or promise the stream left
 * behind may still call it, and the run's memory may by then serve another run
 * (`memory-pool.ts`). Its signal is cut from the cancel word then, and its barrier (a view of
 * its own) is closed; an async barrier wait still pending marks the slot RETAINED, and that
 * run's memory is not reused.
 */
import type { TransferListItem } from 'node:worker_threads';
import * as atomics from '../shared/atomics.js';
import { AbortedError, InvalidArgumentError, InvalidStateError, TimeoutError } from '../shared/errors.js';
import { now, offsetFrom } from '../shared/clock.js';
import { isTracing, traceInstant } from '../shared/trace.js';
import { isAborted, linkAbortToWord, startWait, unlinkAbortFromWord, untilSync } from '../shared/wait.js';
import * as checkpoints from '../sync/raw/checkpoint.js';
import { FileLockManager } from '../fs/file-lock-manager.js';
import type { ProcessLocks } from '../fs/process-locks.js';
import { ImmutableStateManager } from '../protocols/immutable-state.js';
import { ResourceNegotiationProtocol } from '../protocols/resource-negotiation.js';
import { Barrier } from '../sync/barrier.js';
import type { SharedHandles } from './task.js';
import { transferList } from './transfer.js';
import { CANCEL, CP_SEEN, HEARTBEAT, NOT_CANCELLED, PROGRESS, PROGRESS_SCALE, RETAINED, TIMED_OUT, slotWord, type RunMemory } from './layout.js';
import type { MainServices } from './services.js';
import type { StreamContext } from './types.js';

/** What the worker knows when it builds a context. */
export interface ContextInit {
  readonly id: string;
  readonly index: number;
  readonly attempt: number;
  readonly resume: unknown;
  readonly memory: RunMemory;
  readonly services: MainServices;
  readonly shared: SharedHandles;
  readonly directory: string | undefined;
}

/** Slack beyond the interval an arrival waits before it stops waiting for a release. */
const CHECKPOINT_SLACK_MS = 1_000;
/** A traced stream records at most one heartbeat per this many ms (traces stay small). */
const TRACE_HEARTBEAT_EVERY_MS = 10;

class WorkerStreamContext implements StreamContext {
  readonly id: string;
  readonly attempt: number;
  readonly resume: unknown;
  readonly directory: string | undefined;
  readonly #shared: SharedHandles;
  // The shared services and the signal are built on first use: most streams touch few of
  // them, and an empty stream's round trip should not pay for what it never reads.
  #state: ImmutableStateManager<Record<string, unknown>> | undefined;
  #resources: ResourceNegotiationProtocol | undefined;
  #fileLocks: FileLockManager | undefined;
  #signal: AbortSignal | undefined;
  #barrier: Barrier | undefined;
  readonly #words: Int32Array;
  readonly #cancelWord: number;
  readonly #heartbeatWord: number;
  readonly #progressWord: number;
  readonly #epochMs: number;
  readonly #index: number;
  readonly #memory: RunMemory;
  readonly #services: ContextInit['services'];
  readonly #traced = isTracing();
  #lastTracedBeat = 0;
  /** The attempt has ended: nothing may touch the run's memory any more. */
  #over = false;

  constructor(init: ContextInit) {
    this.id = init.id;
    this.attempt = init.attempt;
    this.resume = init.resume;
    this.#memory = init.memory;
    this.#index = init.index;
    this.#services = init.services;
    this.#words = init.memory.words;
    this.#cancelWord = slotWord(init.index, CANCEL);
    this.#heartbeatWord = slotWord(init.index, HEARTBEAT);
    this.#progressWord = slotWord(init.index, PROGRESS);
    this.#epochMs = init.memory.epochMs;
    this.#shared = init.shared;
    this.directory = init.directory;
  }

  get barrier(): Barrier {
    if (this.#over) throw new InvalidStateError(`stream ${this.id}'s attempt is over: use ctx.barrier only while the stream function runs`);
    // A view of its own, closed when the attempt ends (a lane's next stream gets another).
    return (this.#barrier ??= Barrier.from(this.#memory.barrierHandle));
  }

  get signal(): AbortSignal {
    if (this.#signal === undefined) {
      if (this.#over) return AbortSignal.abort(new AbortedError(`stream ${this.id}'s attempt is over`));
      const controller = new AbortController();
      const cancel = atomics.load(this.#words, this.#cancelWord);
      if (cancel !== NOT_CANCELLED) controller.abort(this.#reason(cancel));
      // The coordinator cancels through shared memory: this thread may be too busy for messages.
      else linkAbortToWord(controller, this.#words, this.#cancelWord, () => this.#reason(atomics.load(this.#words, this.#cancelWord)));
      this.#signal = controller.signal;
    }
    return this.#signal;
  }

  throwIfAborted(): void {
    if (this.#over) return;
    if (atomics.load(this.#words, this.#cancelWord) === NOT_CANCELLED) return;
    isAborted(this.signal);
    this.signal.throwIfAborted();
  }

  /** Why the stream is cancelled, from its cancel word. */
  #reason(cancel: number): Error {
    return cancel === TIMED_OUT
      ? new TimeoutError(`stream ${this.id} ran past its timeoutMs; stop when ctx.signal aborts, or raise the stream's timeoutMs`)
      : new AbortedError(`stream ${this.id} was cancelled`);
  }

  get state(): ImmutableStateManager<Record<string, unknown>> {
    return (this.#state ??= ImmutableStateManager.from(this.#shared.state));
  }

  get resources(): ResourceNegotiationProtocol | undefined {
    const handle = this.#shared.resources;
    return handle === undefined ? undefined : (this.#resources ??= ResourceNegotiationProtocol.from(handle));
  }

  get fileLocks(): FileLockManager {
    return (this.#fileLocks ??= FileLockManager.from(this.#shared.fileLocks, this.#services.processLocks));
  }

  /** Releases the file locks the stream still holds, if it ever took any. */
  releaseFileLocks(): Promise<void> | undefined {
    return this.#fileLocks?.close();
  }

  heartbeat(details?: unknown): void {
    if (this.#over) return;
    // One store of a small integer: no message, no allocation.
    const t = now();
    atomics.store(this.#words, this.#heartbeatWord, offsetFrom(this.#epochMs, t));
    if (details !== undefined) this.#services.recordDetails(details);
    if (this.#traced && t - this.#lastTracedBeat >= TRACE_HEARTBEAT_EVERY_MS) {
      this.#lastTracedBeat = t;
      traceInstant('heartbeat', 'heartbeat', { stream: this.id });
    }
    // A beat is where a cooperative loop learns of a cancel: fire ctx.signal's abort event.
    if (this.#signal !== undefined && atomics.load(this.#words, this.#cancelWord) !== NOT_CANCELLED) isAborted(this.#signal);
  }

  progress(fraction: number, details?: unknown): void {
    if (this.#over) return;
    const clamped = fraction >= 1 ? 1 : fraction > 0 ? fraction : 0;
    atomics.store(this.#words, this.#progressWord, Math.round(clamped * PROGRESS_SCALE));
    this.heartbeat(details);
  }

  checkpoint(): void {
    if (this.#over) return;
    this.throwIfAborted();
    const words = this.#words;
    const seenWord = slotWord(this.#index, CP_SEEN);
    // Fast path: no checkpoint pending that this stream has not already joined.
    const epoch = checkpoints.pendingEpoch(words, seenWord);
    if (epoch === 0) return;
    checkpoints.arrive(words, seenWord, epoch);
    const limit = this.#memory.checkpointIntervalMs + CHECKPOINT_SLACK_MS;
    const ctx = startWait(`checkpoint ${epoch}`, { timeoutMs: limit, signal: this.signal });
    this.inCheckpoint = true;
    try {
      // Past the limit the coordinator has moved on (it reports this stream as lagging): go on.
      untilSync(
        ctx,
        () => checkpoints.released(words, epoch),
        () => (isAborted(this.signal) ? undefined : true),
      );
    } finally {
      this.inCheckpoint = false;
    }
  }

  /** The attempt is over: from now on the context touches no shared memory. */
  end(): void {
    this.#over = true;
    if (this.#signal !== undefined) unlinkAbortFromWord(this.#signal);
    // A pending async wait may still write to the barrier: the run's memory must not be reused.
    if (this.#barrier?.close() === false) this.#memory.set(this.#index, RETAINED, 1);
  }

  /** Whether the stream is parked in `checkpoint()` (the worker's park observer reads it). */
  inCheckpoint = false;

  /** The value `transfer()` marked, and what to move with it. */
  transferred: { readonly value: object; readonly list: readonly TransferListItem[] } | undefined;

  transfer<T extends object>(value: T, list: readonly (TransferListItem | ArrayBufferView)[]): T {
    if (typeof value !== 'object' || value === null) throw new InvalidArgumentError('ctx.transfer(value, list): value must be the object the stream returns');
    this.transferred = { value, list: transferList('ctx.transfer list', list) };
    return value;
  }
}

/** The context as the worker entry sees it: the stream's view plus end-of-task clean-up. */
export type WorkerContext = StreamContext & {
  releaseFileLocks(): Promise<void> | undefined;
  end(): void;
  readonly inCheckpoint: boolean;
  readonly transferred: { readonly value: object; readonly list: readonly TransferListItem[] } | undefined;
};

/** Builds the context a stream function receives. */
export function createContext(init: ContextInit): WorkerContext {
  return new WorkerStreamContext(init);
}
